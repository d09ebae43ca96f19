/**
 * The group/version/resource of every kind the federation controllers read or write, for
 * `resourcePath()` (src/client/client.ts).
 */
export const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces' } as const;
export const CRDS = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions' } as const;
export const CLUSTERS = { group: 'cluster.karmada.io', version: 'v1alpha1', resource: 'clusters' } as const;
export const PROPAGATION_POLICIES = { group: 'policy.karmada.io', version: 'v1alpha1', resource: 'propagationpolicies' } as const;
export const CLUSTER_PROPAGATION_POLICIES = { group: 'policy.karmada.io', version: 'v1alpha1', resource: 'clusterpropagationpolicies' } as const;
export const OVERRIDE_POLICIES = { group: 'policy.karmada.io', version: 'v1alpha1', resource: 'overridepolicies' } as const;
export const CLUSTER_OVERRIDE_POLICIES = { group: 'policy.karmada.io', version: 'v1alpha1', resource: 'clusteroverridepolicies' } as const;
export const RESOURCE_BINDINGS = { group: 'work.karmada.io', version: 'v1alpha2', resource: 'resourcebindings' } as const;
export const CLUSTER_RESOURCE_BINDINGS = { group: 'work.karmada.io', version: 'v1alpha2', resource: 'clusterresourcebindings' } as const;
export const WORKS = { group: 'work.karmada.io', version: 'v1alpha1', resource: 'works' } as const;
