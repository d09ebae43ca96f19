/**
 * Karmada's scheduler (pkg/scheduler) as pure functions: given the Cluster objects and a
 * ResourceBinding's spec/status, decide spec.clusters and the Scheduled condition, and say why for
 * every cluster. No I/O, no clock, no randomness: the same input always gives the same result.
 *
 * Implemented:
 * - schedulingTrigger: when a binding needs scheduling (placement changed vs the
 *   `policy.karmada.io/applied-placement` annotation, replicas changed, rescheduleTriggeredAt newer
 *   than lastScheduledTime, non-workload/Duplicated always, a target cluster being deleted when the
 *   clusters are passed).
 * - Filters: APIEnablement, TaintToleration (NoSchedule/NoExecute vs clusterTolerations),
 *   ClusterAffinity (labelSelector, fieldSelector on provider/region/zones, clusterNames, exclude;
 *   clusterAffinities terms and their overflowAffinities), SpreadConstraint (missing
 *   provider/region/zones), ClusterEviction (gracefulEvictionTasks). Clusters already in
 *   spec.clusters pass APIEnablement and TaintToleration. Deleting clusters are skipped; not-ready
 *   clusters are not filtered as such (their not-ready/unreachable taints do it). No feasible
 *   cluster → NoClusterFit with Karmada's FitError text, and spec.clusters is cleared.
 * - Score: ClusterLocality (100 for clusters already in spec.clusters); ClusterAffinity scores 0.
 * - Selection by spread constraints (by cluster with minGroups/maxGroups and room for the
 *   replicas; by region with the region group search), with Karmada's error texts; static
 *   weighting ignores spread constraints.
 * - Replica division: Duplicated, static weights (Webster / Sainte-Laguë with the uid-parity
 *   tie-break), dynamic weight by available replicas and Aggregated (steady scale-up/scale-down
 *   from the previous result, fresh mode), overflow groups filled in order, 0-replica clusters
 *   dropped; non-workloads go to every selected cluster without replicas.
 * - The general estimator: available replicas from status.resourceSummary (free pods, then
 *   allocatable − allocated − allocating over the requested resources) or, when the cluster
 *   publishes allocatableModelings, from its resource models.
 * - clusterAffinities: terms tried in order from the one in status.schedulerObservingAffinityName
 *   (from the first on a fresh reschedule); the first that schedules wins.
 *
 * Not implemented (out of scope): the WorkloadAffinity/WorkloadAntiAffinity plugins (feature gate
 * WorkloadAffinity, off by default), the accurate scheduler-estimator (gRPC to karmada-scheduler-
 * estimator), the SchedulingOvercommitProtection assumption cache, multi-template (components)
 * scheduling, --enable-empty-workload-propagation, QuotaExceeded (that comes from patching the
 * result), and picking which bindings to schedule (schedulerName, spec.suspension.scheduling) —
 * callers do that. Filter plugins always run in one fixed order (Karmada's run in Go map order),
 * so a cluster failing several filters always reports the same one.
 */
export { scheduleBinding, fitErrorMessage, SUCCESS_MESSAGE } from './schedule.js';
export { schedulingTrigger, placementChanged, APPLIED_PLACEMENT_ANNOTATION } from './trigger.js';
export { estimateCluster, estimateAvailableReplicas } from './estimator.js';
export { clusterMatches } from './affinity.js';
export { tolerates, firstUntoleratedTaint, formatTaint } from './tolerations.js';
export { FILTER_PLUGINS, runFilters } from './filters.js';
export { webster, fnv32a, namesAscendingOnTie } from './division.js';
export { selectGroups } from './spread.js';
export type * from './types.js';
