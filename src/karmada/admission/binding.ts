import { cause } from '../../api/status.js';
import type { StatusCause } from '../../api/status.js';
import { asArray, asNumber, asObject, asString, ensureIdLabel, requireString, spec } from './common.js';
import type { KarmadaAdmissionPlugin, KarmadaAdmissionRequest } from './plugin.js';

/**
 * ResourceBinding and ClusterResourceBinding admission (work.karmada.io/v1alpha2, karmada-api.md
 * §2.5, §4.10): a permanent id on create, and the structural rules the controllers rely on.
 */
export const RESOURCE_BINDING_ID_LABEL = 'resourcebinding.karmada.io/permanent-id';
export const CLUSTER_RESOURCE_BINDING_ID_LABEL = 'clusterresourcebinding.karmada.io/permanent-id';
/** JSON list of the objects a binding's resource depends on (written by the dependencies distributor). */
export const DEPENDENCIES_ANNOTATION = 'resourcebinding.karmada.io/dependencies';

function validateTargetClusters(clusters: unknown, field: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const names = new Set<string>();
  asArray(clusters).forEach((item, i) => {
    const target = asObject(item);
    if (!target) return;
    const path = `${field}[${i}]`;
    const name = asString(target['name']);
    if (name === '') causes.push(...requireString(target['name'], `${path}.name`));
    else if (names.has(name)) causes.push(cause.duplicate(`${path}.name`, name));
    names.add(name);
    const replicas = asNumber(target['replicas']);
    if (replicas !== undefined && replicas < 0) causes.push(cause.invalid(`${path}.replicas`, replicas, 'must be greater than or equal to 0'));
  });
  return causes;
}

function validateDependencies(request: KarmadaAdmissionRequest): StatusCause[] {
  const annotations = request.object.metadata.annotations;
  const value = annotations && typeof annotations[DEPENDENCIES_ANNOTATION] === 'string' ? annotations[DEPENDENCIES_ANNOTATION] : undefined;
  if (value === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    parsed = undefined;
  }
  const ok = parsed === null || (Array.isArray(parsed) && parsed.every((entry) => asObject(entry) !== undefined));
  return ok ? [] : [cause.invalid(`metadata.annotations[${DEPENDENCIES_ANNOTATION}]`, value, 'must be a JSON list of object references')];
}

function validateBinding(request: KarmadaAdmissionRequest, checkDependencies: boolean): StatusCause[] {
  const causes: StatusCause[] = [];
  if (checkDependencies) causes.push(...validateDependencies(request));
  const s = spec(request.object);
  if (!s) return causes;
  const resource = asObject(s['resource']);
  if (resource) {
    for (const key of ['apiVersion', 'kind', 'name']) causes.push(...requireString(resource[key], `spec.resource.${key}`));
  }
  const replicas = asNumber(s['replicas']);
  if (replicas !== undefined && replicas < 0) causes.push(cause.invalid('spec.replicas', replicas, 'must be greater than or equal to 0'));
  causes.push(...validateTargetClusters(s['clusters'], 'spec.clusters'));
  asArray(s['requiredBy']).forEach((item, i) => {
    const snapshot = asObject(item);
    if (snapshot) causes.push(...validateTargetClusters(snapshot['clusters'], `spec.requiredBy[${i}].clusters`));
  });
  return causes;
}

function bindingPlugin(idLabel: string, checkDependencies: boolean): KarmadaAdmissionPlugin {
  return {
    mutate(request) {
      // Karmada's binding webhooks only mutate on create.
      if (request.operation === 'CREATE') ensureIdLabel(request.object, idLabel);
    },
    validate: (request) => validateBinding(request, checkDependencies),
  };
}

export const resourceBindingAdmission = bindingPlugin(RESOURCE_BINDING_ID_LABEL, true);
export const clusterResourceBindingAdmission = bindingPlugin(CLUSTER_RESOURCE_BINDING_ID_LABEL, false);
