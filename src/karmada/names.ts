/**
 * Karmada's names for the places propagation uses (karmada-api.md §3.1): the execution namespace of
 * a member cluster, where the control plane keeps that cluster's Works.
 */
export const EXECUTION_NAMESPACE_PREFIX = 'karmada-es-';

/** `karmada-es-<cluster>`: where the cluster's Works live. */
export function executionNamespace(cluster: string): string {
  return `${EXECUTION_NAMESPACE_PREFIX}${cluster}`;
}

/** The cluster an execution namespace belongs to, or undefined for any other namespace. */
export function clusterOfExecutionNamespace(namespace: string | undefined): string | undefined {
  return namespace?.startsWith(EXECUTION_NAMESPACE_PREFIX) ? namespace.slice(EXECUTION_NAMESPACE_PREFIX.length) : undefined;
}
