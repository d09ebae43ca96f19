/**
 * The shapes the scheduler reads and writes, as plain readonly interfaces whose field names are the
 * JSON names Karmada's API serves (cluster.karmada.io/v1alpha1 Cluster, work.karmada.io/v1alpha2
 * ResourceBinding, the policy.karmada.io/v1alpha1 Placement copied into it). Only the fields the
 * scheduler looks at are typed; everything is optional the way the API makes it optional, and
 * `| undefined` is allowed everywhere so callers can pass values straight from parsed JSON under
 * `exactOptionalPropertyTypes`.
 */

// ---- core/v1 pieces ----

export interface Taint {
  readonly key: string;
  readonly value?: string | undefined;
  /** NoSchedule | PreferNoSchedule | NoExecute */
  readonly effect: string;
  readonly timeAdded?: string | undefined;
}

export interface Toleration {
  readonly key?: string | undefined;
  /** Exists | Equal (empty means Equal). */
  readonly operator?: string | undefined;
  readonly value?: string | undefined;
  readonly effect?: string | undefined;
  readonly tolerationSeconds?: number | null | undefined;
}

/** core/v1 NodeSelectorRequirement, used by ClusterAffinity.fieldSelector. */
export interface NodeSelectorRequirement {
  readonly key: string;
  /** In | NotIn | Exists | DoesNotExist | Gt | Lt */
  readonly operator: string;
  readonly values?: readonly string[] | null | undefined;
}

/** metav1.LabelSelector. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>> | null | undefined;
  readonly matchExpressions?: readonly { readonly key: string; readonly operator: string; readonly values?: readonly string[] | null | undefined }[] | null | undefined;
}

export interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string | undefined;
  readonly message?: string | undefined;
  readonly lastTransitionTime?: string | undefined;
  readonly observedGeneration?: number | undefined;
}

/** A ResourceList: resource name → Quantity (a string such as "100m", "1Gi", "2", or a plain number). */
export type ResourceList = Readonly<Record<string, string | number>>;

// ---- Cluster (cluster.karmada.io/v1alpha1) ----

export interface ResourceModelRange {
  readonly name: string;
  readonly min: string | number;
  readonly max: string | number;
}

export interface ResourceModel {
  readonly grade: number;
  readonly ranges: readonly ResourceModelRange[];
}

export interface ClusterSpec {
  readonly id?: string | undefined;
  readonly syncMode?: string | undefined;
  readonly apiEndpoint?: string | undefined;
  readonly provider?: string | undefined;
  readonly region?: string | undefined;
  /** Deprecated single zone; the scheduler (like Karmada's) only reads `zones`. */
  readonly zone?: string | undefined;
  readonly zones?: readonly string[] | null | undefined;
  readonly taints?: readonly Taint[] | null | undefined;
  readonly resourceModels?: readonly ResourceModel[] | null | undefined;
}

export interface APIEnablement {
  readonly groupVersion: string;
  readonly resources?: readonly { readonly name: string; readonly kind: string }[] | null | undefined;
}

export interface AllocatableModeling {
  readonly grade: number;
  readonly count: number;
}

export interface ResourceSummary {
  readonly allocatable?: ResourceList | null | undefined;
  readonly allocating?: ResourceList | null | undefined;
  readonly allocated?: ResourceList | null | undefined;
  readonly allocatableModelings?: readonly AllocatableModeling[] | null | undefined;
}

export interface ClusterStatus {
  readonly kubernetesVersion?: string | undefined;
  readonly apiEnablements?: readonly APIEnablement[] | null | undefined;
  readonly conditions?: readonly Condition[] | null | undefined;
  readonly resourceSummary?: ResourceSummary | null | undefined;
}

export interface ClusterObject {
  readonly apiVersion?: string | undefined;
  readonly kind?: string | undefined;
  readonly metadata: {
    readonly name: string;
    readonly labels?: Readonly<Record<string, string>> | null | undefined;
    readonly annotations?: Readonly<Record<string, string>> | null | undefined;
    readonly deletionTimestamp?: string | null | undefined;
  };
  readonly spec?: ClusterSpec | undefined;
  readonly status?: ClusterStatus | undefined;
}

// ---- Placement (policy.karmada.io/v1alpha1) ----

export interface FieldSelector {
  readonly matchExpressions?: readonly NodeSelectorRequirement[] | null | undefined;
}

export interface ClusterAffinity {
  readonly labelSelector?: LabelSelector | null | undefined;
  /** Keys `provider`, `region`, `zone`. */
  readonly fieldSelector?: FieldSelector | null | undefined;
  readonly clusterNames?: readonly string[] | null | undefined;
  /** Go field ExcludeClusters. */
  readonly exclude?: readonly string[] | null | undefined;
}

export interface OverflowAffinity extends ClusterAffinity {
  readonly affinityName: string;
}

export interface ClusterAffinityTerm extends ClusterAffinity {
  readonly affinityName: string;
  readonly overflowAffinities?: readonly OverflowAffinity[] | null | undefined;
}

export interface SpreadConstraint {
  /** cluster | region | zone | provider */
  readonly spreadByField?: string | undefined;
  readonly spreadByLabel?: string | undefined;
  readonly maxGroups?: number | undefined;
  readonly minGroups?: number | undefined;
}

export interface StaticClusterWeight {
  readonly targetCluster: ClusterAffinity;
  readonly weight: number;
}

export interface ClusterPreferences {
  readonly staticWeightList?: readonly StaticClusterWeight[] | null | undefined;
  /** Only value: AvailableReplicas. */
  readonly dynamicWeight?: string | undefined;
}

export interface ReplicaSchedulingStrategy {
  /** Duplicated | Divided (CRD default Divided when replicaScheduling is present). */
  readonly replicaSchedulingType?: string | undefined;
  /** Aggregated | Weighted (webhook default Weighted for Divided). */
  readonly replicaDivisionPreference?: string | undefined;
  readonly weightPreference?: ClusterPreferences | null | undefined;
}

export interface Placement {
  readonly clusterAffinity?: ClusterAffinity | null | undefined;
  readonly clusterAffinities?: readonly ClusterAffinityTerm[] | null | undefined;
  readonly clusterTolerations?: readonly Toleration[] | null | undefined;
  readonly spreadConstraints?: readonly SpreadConstraint[] | null | undefined;
  readonly replicaScheduling?: ReplicaSchedulingStrategy | null | undefined;
  /** Feature-gated (WorkloadAffinity); read by nobody here. */
  readonly workloadAffinity?: unknown;
}

// ---- ResourceBinding (work.karmada.io/v1alpha2) ----

export interface ObjectReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string | undefined;
  readonly name: string;
  readonly uid?: string | undefined;
  readonly resourceVersion?: string | undefined;
}

export interface ReplicaRequirements {
  readonly resourceRequest?: ResourceList | null | undefined;
  readonly nodeClaim?: unknown;
  readonly namespace?: string | undefined;
  readonly priorityClassName?: string | undefined;
}

/** A scheduling result entry (spec.clusters[]). `replicas` is absent for non-workloads. */
export interface TargetCluster {
  readonly name: string;
  readonly replicas?: number;
}

export interface GracefulEvictionTask {
  readonly fromCluster: string;
  readonly purgeMode?: string | undefined;
  readonly replicas?: number | undefined;
  readonly reason?: string | undefined;
  readonly message?: string | undefined;
  readonly producer?: string | undefined;
  readonly gracePeriodSeconds?: number | undefined;
  readonly suppressDeletion?: boolean | undefined;
  readonly creationTimestamp?: string | undefined;
}

export interface BindingSpec {
  readonly resource: ObjectReference;
  readonly replicas?: number | undefined;
  readonly replicaRequirements?: ReplicaRequirements | null | undefined;
  /** Multi-template workloads (gate MultiplePodTemplatesScheduling, off): not scheduled specially here. */
  readonly components?: readonly unknown[] | null | undefined;
  readonly placement?: Placement | null | undefined;
  /** The previous scheduling result. */
  readonly clusters?: readonly { readonly name: string; readonly replicas?: number | undefined }[] | null | undefined;
  readonly gracefulEvictionTasks?: readonly GracefulEvictionTask[] | null | undefined;
  readonly rescheduleTriggeredAt?: string | null | undefined;
  readonly schedulerName?: string | undefined;
  readonly suspension?: { readonly scheduling?: boolean | undefined; readonly dispatching?: boolean | undefined } | null | undefined;
}

export interface BindingStatus {
  readonly lastScheduledTime?: string | null | undefined;
  readonly schedulerObservingAffinityName?: string | undefined;
  readonly schedulerObservedGeneration?: number | undefined;
  readonly conditions?: readonly Condition[] | null | undefined;
}

// ---- scheduler input / output ----

export interface SchedulingInput {
  /** Cluster objects exactly as the API serves them. */
  readonly clusters: readonly ClusterObject[];
  readonly spec: BindingSpec;
  readonly status?: BindingStatus | undefined;
}

export interface ClusterExplanation {
  readonly cluster: string;
  /** Set when a filter plugin rejected the cluster: Karmada's plugin name and its reason text. */
  readonly filteredBy?: { readonly plugin: string; readonly reason: string };
  /** Sum of the score plugins (ClusterLocality 100 for clusters already in spec.clusters, else 0). */
  readonly score?: number;
  /** What the general estimator says the cluster can still take, when the strategy needed it. */
  readonly availableReplicas?: number;
  readonly selected: boolean;
  readonly replicas?: number;
  /** With clusterAffinities: the term this explanation belongs to (the winner, or the last one tried). */
  readonly affinityTerm?: string;
  /** One human sentence. */
  readonly why: string;
}

export interface ScheduledCondition {
  readonly status: 'True' | 'False';
  /** Success | NoClusterFit | Unschedulable | SchedulerError */
  readonly reason: string;
  readonly message: string;
}

export interface SchedulingResult {
  /** true: write `clusters` (and affinityName) to spec.clusters; false: scheduling failed. */
  readonly scheduled: boolean;
  /**
   * What spec.clusters must become, or undefined = leave spec.clusters unchanged. Like Karmada, a
   * FitError (no cluster passed the filters) clears the result (`[]`, with scheduled false); every
   * other failure leaves it alone.
   */
  readonly clusters: readonly TargetCluster[] | undefined;
  /** The clusterAffinities term used (status.schedulerObservingAffinityName), when clusterAffinities is set. */
  readonly affinityName?: string;
  /** The Scheduled condition to write. */
  readonly condition: ScheduledCondition;
  /** One entry per input cluster, sorted by name. */
  readonly explanation: readonly ClusterExplanation[];
}

export type SchedulingTrigger = { readonly kind: 'none' } | { readonly kind: 'schedule' | 'scale' | 'fresh' | 'always'; readonly reason: string };
