import { ALL_VERBS } from '../registry/resource.js';
import type { AlternateVersion, PrinterColumn, ResourceDefinition } from '../registry/resource.js';
import { bindingFromV1alpha1, bindingToV1alpha1 } from './binding-conversion.js';

/**
 * Karmada's federation API as data (karmada-api.md §1): names, scopes, subresources, short names,
 * categories and printer columns as Karmada serves them. Cluster comes from Karmada's aggregated API
 * server upstream (a Go type: kube's decoding rules); the policy and work kinds are CRDs upstream, so
 * they keep CRD semantics (schema defaults, 422 on type errors, no strategic merge patch).
 */
const CATEGORY = ['karmada-io'] as const;
const crd = { verbs: ALL_VERBS, tracksGeneration: true, strategicMerge: false, crdSemantics: true, categories: CATEGORY } as const;

const column = (name: string, jsonPath: string, description: string, type: PrinterColumn['type'] = 'string'): PrinterColumn => ({ name, type, jsonPath, description, priority: 0 });
const AGE = column('AGE', '.metadata.creationTimestamp', 'Time since the object was created.', 'date');
const POLICY_COLUMNS = [
  column('CONFLICT-RESOLUTION', '.spec.conflictResolution', 'What happens when a resource already exists in a member cluster: Abort or Overwrite.'),
  column('PRIORITY', '.spec.priority', 'Explicit priority of the policy; the highest wins when several match a resource.'),
  AGE,
];
const BINDING_COLUMNS = [
  column('SCHEDULED', '.status.conditions[?(@.type=="Scheduled")].status', 'Whether the scheduler has placed the resource.'),
  column('FULLYAPPLIED', '.status.conditions[?(@.type=="FullyApplied")].status', 'Whether the resource is applied in every target cluster.'),
  AGE,
];

const bindingV1alpha1 = (kind: string): AlternateVersion => ({
  schemaRef: `io.karmada.work.v1alpha1.${kind}`,
  fromStorage: bindingToV1alpha1,
  toStorage: bindingFromV1alpha1,
});

export const KARMADA_RESOURCES: readonly ResourceDefinition[] = [
  {
    group: 'cluster.karmada.io', versions: ['v1alpha1'], kind: 'Cluster', plural: 'clusters', singular: 'cluster', namespaced: false,
    verbs: ALL_VERBS, tracksGeneration: true, strategicMerge: true, statusSubresource: true, otherSubresources: ['proxy'],
    schemaRef: 'com.github.karmada-io.karmada.pkg.apis.cluster.v1alpha1.Cluster',
  },
  { ...crd, group: 'policy.karmada.io', versions: ['v1alpha1'], kind: 'PropagationPolicy', plural: 'propagationpolicies', singular: 'propagationpolicy', namespaced: true, shortNames: ['pp'], printerColumns: POLICY_COLUMNS, schemaRef: 'io.karmada.policy.v1alpha1.PropagationPolicy' },
  { ...crd, group: 'policy.karmada.io', versions: ['v1alpha1'], kind: 'ClusterPropagationPolicy', plural: 'clusterpropagationpolicies', singular: 'clusterpropagationpolicy', namespaced: false, shortNames: ['cpp'], printerColumns: POLICY_COLUMNS, schemaRef: 'io.karmada.policy.v1alpha1.ClusterPropagationPolicy' },
  { ...crd, group: 'policy.karmada.io', versions: ['v1alpha1'], kind: 'OverridePolicy', plural: 'overridepolicies', singular: 'overridepolicy', namespaced: true, shortNames: ['op'], schemaRef: 'io.karmada.policy.v1alpha1.OverridePolicy' },
  { ...crd, group: 'policy.karmada.io', versions: ['v1alpha1'], kind: 'ClusterOverridePolicy', plural: 'clusteroverridepolicies', singular: 'clusteroverridepolicy', namespaced: false, shortNames: ['cop'], schemaRef: 'io.karmada.policy.v1alpha1.ClusterOverridePolicy' },
  {
    ...crd, group: 'work.karmada.io', versions: ['v1alpha2', 'v1alpha1'], kind: 'ResourceBinding', plural: 'resourcebindings', singular: 'resourcebinding', namespaced: true, shortNames: ['rb'],
    statusSubresource: true, printerColumns: BINDING_COLUMNS, schemaRef: 'io.karmada.work.v1alpha2.ResourceBinding', alternateVersions: { v1alpha1: bindingV1alpha1('ResourceBinding') },
  },
  {
    ...crd, group: 'work.karmada.io', versions: ['v1alpha2', 'v1alpha1'], kind: 'ClusterResourceBinding', plural: 'clusterresourcebindings', singular: 'clusterresourcebinding', namespaced: false, shortNames: ['crb'],
    statusSubresource: true, printerColumns: BINDING_COLUMNS, schemaRef: 'io.karmada.work.v1alpha2.ClusterResourceBinding', alternateVersions: { v1alpha1: bindingV1alpha1('ClusterResourceBinding') },
  },
  {
    ...crd, group: 'work.karmada.io', versions: ['v1alpha1'], kind: 'Work', plural: 'works', singular: 'work', namespaced: true, shortNames: ['wk'], statusSubresource: true,
    printerColumns: [column('WORKLOAD-KIND', '.spec.workload.manifests[*].kind', 'Kinds of the manifests the Work carries.'), column('APPLIED', '.status.conditions[?(@.type=="Applied")].status', 'Whether the manifests are applied in the member cluster.'), AGE],
    schemaRef: 'io.karmada.work.v1alpha1.Work',
  },
];
