import { isPlainObject } from '../../api/object.js';
import type { Strategy } from './strategy.js';

/**
 * Namespaces: Active on create with the `kubernetes` finalizer in spec.finalizers and the
 * kubernetes.io/metadata.name label; DELETE turns them Terminating until the namespace controller
 * has emptied them and removed the finalizer.
 */
export const NAMESPACE_FINALIZER = 'kubernetes';

export const namespaceStrategy: Strategy = {
  nameRule: 'label',
  defaults(object) {
    object.metadata.labels = { ...object.metadata.labels, 'kubernetes.io/metadata.name': object.metadata.name ?? '' };
  },
  prepareForCreate(object) {
    object['spec'] = { finalizers: [NAMESPACE_FINALIZER] };
    object['status'] = { phase: 'Active' };
  },
  prepareForUpdate(object, old) {
    // spec.finalizers change only through the finalize subresource.
    object['spec'] = old['spec'];
  },
  extraFinalizers(object) {
    const spec = object['spec'];
    return isPlainObject(spec) && Array.isArray(spec['finalizers']) ? (spec['finalizers'] as string[]) : [];
  },
  beginDeletion(object) {
    object['status'] = { ...(isPlainObject(object['status']) ? object['status'] : {}), phase: 'Terminating' };
  },
};
