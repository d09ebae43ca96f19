import type { KubeObject, ObjectMeta } from '../../api/object.js';
import type { LabelSelectorObject } from '../../api/label-selector.js';

/**
 * The slices of Kubernetes object shapes the simulator reads and writes. Objects arrive as plain
 * JSON from informers; these interfaces only name the fields used (everything optional, as JSON
 * from a user may lack anything), so a cast from KubeObject is all it takes.
 */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
  lastProbeTime?: string | null;
  lastHeartbeatTime?: string;
}

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: string;
}

export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

export interface Affinity {
  nodeAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] };
    preferredDuringSchedulingIgnoredDuringExecution?: unknown[];
  };
  podAffinity?: unknown;
  podAntiAffinity?: unknown;
}

export interface ResourceRequirements {
  requests?: Record<string, string | number>;
  limits?: Record<string, string | number>;
}

export interface Container {
  name: string;
  image?: string;
  resources?: ResourceRequirements;
  restartPolicy?: string;
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  [field: string]: unknown;
}

export interface PodSpec {
  nodeName?: string;
  schedulerName?: string;
  nodeSelector?: Record<string, string>;
  affinity?: Affinity;
  tolerations?: Toleration[];
  containers?: Container[];
  initContainers?: Container[];
  overhead?: Record<string, string | number>;
  restartPolicy?: string;
  priority?: number;
  schedulingGates?: { name: string }[];
  hostname?: string;
  subdomain?: string;
  hostNetwork?: boolean;
  [field: string]: unknown;
}

export interface ContainerStatus {
  name: string;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  image: string;
  imageID: string;
  containerID?: string;
  state: Record<string, unknown>;
  lastState: Record<string, unknown>;
}

export interface PodStatus {
  phase?: string;
  conditions?: Condition[];
  hostIP?: string;
  hostIPs?: { ip: string }[];
  podIP?: string;
  podIPs?: { ip: string }[];
  startTime?: string;
  qosClass?: string;
  containerStatuses?: ContainerStatus[];
  initContainerStatuses?: ContainerStatus[];
  reason?: string;
  message?: string;
  [field: string]: unknown;
}

export interface Pod extends KubeObject {
  metadata: ObjectMeta;
  spec?: PodSpec;
  status?: PodStatus;
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[]; [field: string]: unknown };
  spec?: PodSpec;
}

export interface Node extends KubeObject {
  spec?: { taints?: Taint[]; unschedulable?: boolean; podCIDR?: string; podCIDRs?: string[]; [field: string]: unknown };
  status?: {
    capacity?: Record<string, string>;
    allocatable?: Record<string, string>;
    conditions?: Condition[];
    addresses?: { type: string; address: string }[];
    [field: string]: unknown;
  };
}

export type IntOrString = number | string;

export interface Deployment extends KubeObject {
  spec?: {
    replicas?: number;
    selector?: LabelSelectorObject;
    template?: PodTemplate;
    strategy?: { type?: string; rollingUpdate?: { maxSurge?: IntOrString; maxUnavailable?: IntOrString } };
    minReadySeconds?: number;
    revisionHistoryLimit?: number;
    progressDeadlineSeconds?: number;
    paused?: boolean;
  };
  status?: DeploymentStatus;
}

export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  collisionCount?: number;
  conditions?: Condition[];
}

export interface ReplicaSet extends KubeObject {
  spec?: { replicas?: number; selector?: LabelSelectorObject; template?: PodTemplate; minReadySeconds?: number };
  status?: {
    replicas?: number;
    fullyLabeledReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    observedGeneration?: number;
    conditions?: Condition[];
  };
}

export interface StatefulSet extends KubeObject {
  spec?: {
    replicas?: number;
    selector?: LabelSelectorObject;
    template?: PodTemplate;
    serviceName?: string;
    podManagementPolicy?: string;
    updateStrategy?: { type?: string; rollingUpdate?: { partition?: number; maxUnavailable?: IntOrString } };
    minReadySeconds?: number;
    ordinals?: { start?: number };
  };
  status?: Record<string, unknown> & { currentRevision?: string; updateRevision?: string; collisionCount?: number };
}

export interface DaemonSet extends KubeObject {
  spec?: {
    selector?: LabelSelectorObject;
    template?: PodTemplate;
    updateStrategy?: { type?: string; rollingUpdate?: { maxUnavailable?: IntOrString; maxSurge?: IntOrString } };
    minReadySeconds?: number;
  };
  status?: Record<string, unknown> & { collisionCount?: number };
}

export interface Job extends KubeObject {
  spec?: {
    parallelism?: number;
    completions?: number | null;
    backoffLimit?: number;
    activeDeadlineSeconds?: number;
    completionMode?: string;
    suspend?: boolean;
    selector?: LabelSelectorObject;
    manualSelector?: boolean;
    template?: PodTemplate;
  };
  status?: {
    active?: number;
    succeeded?: number;
    failed?: number;
    ready?: number;
    terminating?: number;
    startTime?: string;
    completionTime?: string;
    completedIndexes?: string;
    conditions?: Condition[];
    uncountedTerminatedPods?: Record<string, unknown>;
    [field: string]: unknown;
  };
}
