import type { KubeObject } from '../../api/object.js';
import { cause } from '../../api/status.js';
import type { StatusCause } from '../../api/status.js';
import { asArray, asObject, asString, ensureIdLabel, labelValue, requireString, spec } from './common.js';
import type { Obj } from './common.js';
import type { KarmadaAdmissionPlugin, KarmadaAdmissionRequest } from './plugin.js';

/**
 * Work admission (karmada-api.md §2.6, §4.3): a permanent id, and every manifest pruned of what the
 * control plane's API server generated (it cannot or should not reach a member cluster), labelled with
 * the Work's id and annotated with the label and annotation keys Karmada manages on it.
 */
export const WORK_ID_LABEL = 'work.karmada.io/permanent-id';
export const MANAGED_ANNOTATIONS_ANNOTATION = 'resourcetemplate.karmada.io/managed-annotations';
export const MANAGED_LABELS_ANNOTATION = 'resourcetemplate.karmada.io/managed-labels';

/** Metadata the API server owns, dropped from every manifest. */
const GENERATED_METADATA = ['creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'managedFields', 'resourceVersion', 'selfLink', 'uid', 'ownerReferences', 'finalizers'];

const child = (object: Obj | undefined, ...keys: string[]): Obj | undefined => {
  let current = object;
  for (const key of keys) current = asObject(current?.[key]);
  return current;
};

const dropKeys = (map: Obj | undefined, keys: readonly string[]): void => {
  if (map) for (const key of keys) delete map[key];
};

/** Kind-specific pruning, keyed by kind alone as Karmada does. */
const KIND_PRUNERS: Readonly<Record<string, (manifest: Obj) => void>> = {
  Deployment(manifest) {
    dropKeys(child(manifest, 'metadata', 'annotations'), ['deployment.kubernetes.io/revision', 'deployment.kubernetes.io/revision-history']);
  },
  Job(manifest) {
    const jobSpec = child(manifest, 'spec');
    // Selector labels the Job controller generated, unless the user manages the selector.
    if (jobSpec?.['manualSelector'] !== true) {
      dropKeys(child(jobSpec, 'selector', 'matchLabels'), ['controller-uid', 'batch.kubernetes.io/controller-uid']);
      dropKeys(child(jobSpec, 'template', 'metadata', 'labels'), ['controller-uid', 'job-name', 'batch.kubernetes.io/controller-uid', 'batch.kubernetes.io/job-name']);
    }
    // A member's TTL controller would delete the Job and Karmada would recreate it.
    if (jobSpec) delete jobSpec['ttlSecondsAfterFinished'];
  },
  Secret(manifest) {
    if (manifest['type'] === 'kubernetes.io/service-account-token') {
      dropKeys(child(manifest, 'metadata', 'annotations'), ['kubernetes.io/service-account.uid']);
      delete manifest['data'];
    }
  },
  ServiceAccount(manifest) {
    const secrets = manifest['secrets'];
    if (!Array.isArray(secrets)) return;
    const tokenPrefix = `${asString(child(manifest, 'metadata')?.['name'])}-token-`;
    manifest['secrets'] = secrets.filter((secret) => !asString(asObject(secret)?.['name']).startsWith(tokenPrefix));
  },
  Service(manifest) {
    const serviceSpec = child(manifest, 'spec');
    // A headless service ("None") keeps its clusterIP; any allocated address is the member's to choose.
    if (serviceSpec && typeof serviceSpec['clusterIP'] === 'string' && serviceSpec['clusterIP'] !== 'None') dropKeys(serviceSpec, ['clusterIP', 'clusterIPs']);
  },
  PersistentVolumeClaim(manifest) {
    const annotations = child(manifest, 'metadata', 'annotations');
    if (asString(annotations?.['volume.kubernetes.io/selected-node']) !== '') dropKeys(annotations, ['volume.kubernetes.io/selected-node']);
  },
};

/** Prunes one manifest in place (Karmada's RemoveIrrelevantFields plus the Job TTL). */
export function pruneManifest(manifest: Obj): void {
  dropKeys(child(manifest, 'metadata'), GENERATED_METADATA);
  delete manifest['status'];
  KIND_PRUNERS[asString(manifest['kind'])]?.(manifest);
}

const stringMap = (owner: Obj, key: string): Record<string, unknown> => {
  const existing = asObject(owner[key]);
  if (existing) return existing;
  const created: Record<string, unknown> = {};
  owner[key] = created;
  return created;
};

/** The Work's id on the manifest, and the managed label/annotation keys recorded on it. */
function labelManifest(manifest: Obj, workId: string | undefined): void {
  const metadata = stringMap(manifest, 'metadata');
  const annotations = stringMap(metadata, 'annotations');
  const annotationKeys = Object.keys(annotations).filter((key) => key !== MANAGED_ANNOTATIONS_ANNOTATION && key !== MANAGED_LABELS_ANNOTATION);
  annotations[MANAGED_ANNOTATIONS_ANNOTATION] = [MANAGED_ANNOTATIONS_ANNOTATION, MANAGED_LABELS_ANNOTATION, ...annotationKeys].sort().join(',');
  if (workId) stringMap(metadata, 'labels')[WORK_ID_LABEL] = workId;
  annotations[MANAGED_LABELS_ANNOTATION] = Object.keys(asObject(metadata['labels']) ?? {}).sort().join(',');
}

function mutateWork(request: KarmadaAdmissionRequest): void {
  const { object } = request;
  ensureIdLabel(object, WORK_ID_LABEL);
  prepareWorkManifests(object);
}

/**
 * Prunes and labels a Work's manifests in place, as admission stores them (with the Work's id label,
 * if it has one): a controller runs it on the Work it wants, to compare it with the stored one.
 */
export function prepareWorkManifests(object: KubeObject): void {
  const workId = labelValue(object, WORK_ID_LABEL);
  for (const item of asArray(asObject(spec(object)?.['workload'])?.['manifests'])) {
    const manifest = asObject(item);
    if (!manifest) continue;
    pruneManifest(manifest);
    labelManifest(manifest, workId);
  }
}

function validateWork(request: KarmadaAdmissionRequest): StatusCause[] {
  const causes: StatusCause[] = [];
  asArray(asObject(spec(request.object)?.['workload'])?.['manifests']).forEach((item, i) => {
    const path = `spec.workload.manifests[${i}]`;
    const manifest = asObject(item);
    if (!manifest) {
      causes.push(cause.typeInvalid(path, item, 'must be a Kubernetes object'));
      return;
    }
    causes.push(...requireString(manifest['apiVersion'], `${path}.apiVersion`), ...requireString(manifest['kind'], `${path}.kind`));
    causes.push(...requireString(asObject(manifest['metadata'])?.['name'], `${path}.metadata.name`));
  });
  return causes;
}

export const workAdmission: KarmadaAdmissionPlugin = {
  mutate: mutateWork,
  validate: validateWork,
};
