import { timestamp } from '../../api/object.js';
import type { KubeObject } from '../../api/object.js';
import type { Strategy } from '../strategies/strategy.js';
import { CRD_CLEANUP_FINALIZER, validateCrd } from './crd-definition.js';

/**
 * CRDs are validated, accepted at once (NamesAccepted and Established are set on write, so
 * `kubectl wait --for condition=established` returns immediately), and carry the cleanup finalizer
 * that lets their custom resources be deleted before the CRD goes.
 */
function accept(object: KubeObject): void {
  const spec = object['spec'] as { names: object; versions: { name: string; storage: boolean }[] };
  const now = timestamp();
  const storage = spec.versions.find((v) => v.storage)?.name;
  const previous = (object['status'] as { storedVersions?: string[] } | undefined)?.storedVersions ?? [];
  object['status'] = {
    acceptedNames: spec.names,
    conditions: [
      { type: 'NamesAccepted', status: 'True', lastTransitionTime: now, reason: 'NoConflicts', message: 'no conflicts found' },
      { type: 'Established', status: 'True', lastTransitionTime: now, reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
    ],
    storedVersions: [...new Set([...previous, ...(storage ? [storage] : [])])],
  };
}

export const crdStrategy: Strategy = {
  nameRule: 'subdomain',
  validate: (object) => validateCrd(object),
  prepareForCreate(object) {
    object.metadata.finalizers = [...new Set([...(object.metadata.finalizers ?? []), CRD_CLEANUP_FINALIZER])];
    if (validateCrd(object).length === 0) accept(object);
  },
  prepareForUpdate(object, old) {
    object['status'] = old['status'];
    if (validateCrd(object).length === 0 && !object.metadata.deletionTimestamp) accept(object);
  },
};
