import type { KubeObject } from '../../api/object.js';
import { resourceBindingAdmission, clusterResourceBindingAdmission } from './binding.js';
import { clusterAdmission } from './cluster.js';
import { clusterOverridePolicyAdmission, overridePolicyAdmission } from './override-policy.js';
import type { KarmadaAdmissionPlugin } from './plugin.js';
import { clusterPropagationPolicyAdmission, propagationPolicyAdmission } from './propagation-policy.js';
import { workAdmission } from './work.js';

export type { KarmadaAdmissionPlugin, KarmadaAdmissionRequest } from './plugin.js';

/** Karmada admission by "group/Kind", e.g. "policy.karmada.io/PropagationPolicy". */
export const KARMADA_ADMISSION: Readonly<Record<string, KarmadaAdmissionPlugin>> = {
  'cluster.karmada.io/Cluster': clusterAdmission,
  'policy.karmada.io/PropagationPolicy': propagationPolicyAdmission,
  'policy.karmada.io/ClusterPropagationPolicy': clusterPropagationPolicyAdmission,
  'policy.karmada.io/OverridePolicy': overridePolicyAdmission,
  'policy.karmada.io/ClusterOverridePolicy': clusterOverridePolicyAdmission,
  'work.karmada.io/ResourceBinding': resourceBindingAdmission,
  'work.karmada.io/ClusterResourceBinding': clusterResourceBindingAdmission,
  'work.karmada.io/Work': workAdmission,
};

/** The label that protects any object from deletion, and the check the server runs on every DELETE. */
export const DELETION_PROTECTED_LABEL = 'resourcetemplate.karmada.io/deletion-protected';
const PROTECTED = 'Always';

/** Why the object may not be deleted (it carries the protection label with value "Always"), else undefined. */
export function deletionDenied(object: KubeObject): string | undefined {
  const labels = object.metadata.labels;
  if (labels === undefined || labels === null || typeof labels !== 'object' || labels[DELETION_PROTECTED_LABEL] !== PROTECTED) return undefined;
  return `the object is protected from deletion by the label ${DELETION_PROTECTED_LABEL}=${PROTECTED}; remove the label before deleting it`;
}
