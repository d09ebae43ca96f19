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
  const status = object['status'] as { storedVersions?: string[]; conditions?: { type: string; status: string; lastTransitionTime?: string }[] } | undefined;
  const previous = status?.storedVersions ?? [];
  // A condition keeps its lastTransitionTime while its status stays the same, so re-applying a CRD is a no-op.
  const since = (type: string): string => status?.conditions?.find((c) => c.type === type && c.status === 'True')?.lastTransitionTime ?? now;
  object['status'] = {
    acceptedNames: spec.names,
    conditions: [
      { type: 'NamesAccepted', status: 'True', lastTransitionTime: since('NamesAccepted'), reason: 'NoConflicts', message: 'no conflicts found' },
      { type: 'Established', status: 'True', lastTransitionTime: since('Established'), reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
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
