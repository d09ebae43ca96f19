import { isPlainObject } from '../../api/object.js';
import type { KubeObject } from '../../api/object.js';
import type { PrinterColumn, ResourceDefinition } from '../../registry/resource.js';
import { humanDuration, translateTimestampSince } from './age.js';
import { cellValue, evaluate, JsonPathError, parseJsonPath } from './jsonpath.js';
import type { JsonPath } from './jsonpath.js';

/**
 * Table columns and cells per kind, as kube-apiserver's printers produce them. The server always
 * renders every column (wide ones included, priority > 0); kubectl hides priority > 0 unless -o wide.
 */
export interface TableRowCondition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
}

export interface TablePrinter {
  readonly columns: readonly PrinterColumn[];
  cells(object: KubeObject, now: number): unknown[];
  /** Row conditions (kube marks finished pods `Completed`); absent for other kinds. */
  conditions?(object: KubeObject): TableRowCondition[] | undefined;
}

export function printerFor(def: ResourceDefinition): TablePrinter {
  const builtin = def.fromCrd === undefined ? BUILTIN.get(`${def.group}/${def.kind}`) : undefined;
  if (builtin) return builtin;
  let cached = declared.get(def);
  if (!cached) declared.set(def, (cached = columnPrinter(def.printerColumns?.length ? def.printerColumns : [DEFAULT_AGE])));
  return cached;
}

/** Printers of definitions with declared columns, built once per definition (watches ask per event). */
const declared = new WeakMap<ResourceDefinition, TablePrinter>();

// ---------------------------------------------------------------------------------------------
// Column descriptions (the API's own field documentation, as kube's printers use it)

const DOC = {
  name: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  creationTimestamp: 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
  containers: 'Names of each container in the template.',
  images: 'Images referenced by each container in the template.',
  configMapData: "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.",
  secretType: 'Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types',
  secretData: "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4",
  serviceType: 'type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. "ClusterIP" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is "None", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. "NodePort" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. "LoadBalancer" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. "ExternalName" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types',
  clusterIP: 'clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).\n\nValid values are "None", empty string (""), or a valid IP address. Setting this to "None" makes a "headless service" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.\n\nOnly applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies',
  externalIPs: 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system.',
  servicePorts: 'The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies',
  serviceSelector: 'Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/',
  serviceAccountSecrets: 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a "kubernetes.io/enforce-mountable-secrets" annotation set to "true". The "kubernetes.io/enforce-mountable-secrets" annotation is deprecated since v1.32. Prefer separate namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret',
  endpointsSubsets: 'The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.',
  kubeletVersion: 'Kubelet Version reported by the node.',
  nodeAddresses: "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the downward API (status.hostIP).",
  osImage: 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).',
  kernelVersion: "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
  containerRuntimeVersion: 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
  eventLastTimestamp: 'The time at which the most recent occurrence of this event was recorded.',
  eventType: 'Type of this event (Normal, Warning), new types could be added in the future',
  eventReason: "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
  eventObject: 'The object that this event is about.',
  eventFieldPath: 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: "spec.containers{name}" (where "name" refers to the name of the container that triggered the event) or if no container name is specified "spec.containers[2]" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.',
  eventSource: 'The component reporting this event. Should be a short machine understandable string.',
  eventMessage: 'A human-readable description of the status of this operation.',
  eventFirstTimestamp: 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)',
  eventCount: 'The number of times this event has occurred.',
  podIP: 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.',
  nodeName: 'NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename',
  nominatedNodeName: 'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.',
  readinessGates: 'If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to "True" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates',
  readyPods: 'Number of the pod with ready state',
  deploymentUpdated: 'Total number of non-terminating pods targeted by this deployment that have the desired template spec.',
  deploymentAvailable: 'Total number of available non-terminating pods (ready for at least minReadySeconds) targeted by this deployment.',
  deploymentSelector: "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment. It must match the pod template's labels.",
  replicaSetDesired: 'Replicas is the number of desired pods. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset',
  replicaSetCurrent: 'Replicas is the most recently observed number of non-terminating pods. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset',
  replicaSetReady: 'The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition.',
  replicaSetSelector: "Selector is a label query over pods that should match the replica count. Label keys and values that must match in order to be controlled by this replica set. It must match the pod template's labels. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
  daemonSetDesired: 'The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/',
  daemonSetCurrent: 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/',
  daemonSetReady: 'numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.',
  daemonSetUpdated: 'The total number of nodes that are running updated daemon pod',
  daemonSetAvailable: 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)',
  nodeSelector: "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/",
  daemonSetSelector: "A label query over pods that are managed by the daemon set. Must match in order to be controlled. It must match the pod template's labels. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
  jobSucceeded: 'The number of pods which reached phase Succeeded. The value increases monotonically for a given spec. However, it may decrease in reaction to scale down of elastic indexed jobs.',
  jobSelector: 'A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors',
  cronSchedule: 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.',
  cronTimeZone: 'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default to the time zone of the kube-controller-manager process. The set of valid time zone names and the time zone offset is loaded from the system-wide time zone database by the API server during CronJob validation and the controller manager during execution. If no system-wide time zone database can be found a bundled version of the database is used instead. If the time zone name becomes invalid during the lifetime of a CronJob or due to a change in host configuration, the controller will stop creating new new Jobs and will create a system event with the reason UnknownTimeZone. More information can be found in https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones',
  cronSuspend: 'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.',
  cronActive: 'A list of pointers to currently running jobs.',
  cronLastSchedule: 'Information when was the last time the job was successfully scheduled.',
  leaseHolder: 'holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.',
} as const;

// ---------------------------------------------------------------------------------------------
// Columns

function col(name: string, type: PrinterColumn['type'], description: string, priority = 0): PrinterColumn {
  return { name, type, description, priority };
}

const NAME: PrinterColumn = { name: 'Name', type: 'string', format: 'name', description: DOC.name, priority: 0 };
const AGE = col('Age', 'string', DOC.creationTimestamp);
const CONTAINERS = col('Containers', 'string', DOC.containers, 1);
const IMAGES = col('Images', 'string', DOC.images, 1);
/** The column CRDs get when they declare none (apiextensions' default). */
const DEFAULT_AGE: PrinterColumn = { ...col('Age', 'date', DOC.creationTimestamp), jsonPath: '.metadata.creationTimestamp' };

function printer(
  columns: PrinterColumn[],
  cells: TablePrinter['cells'],
  conditions?: TablePrinter['conditions'],
): TablePrinter {
  return conditions ? { columns, cells, conditions } : { columns, cells };
}

/**
 * Name, then each declared column evaluated by JSONPath; `date` cells become ages. Columns without
 * a description get apiextensions' generated one.
 */
function columnPrinter(columns: readonly PrinterColumn[]): TablePrinter {
  const paths = columns.map((column): JsonPath | undefined => {
    try {
      return column.jsonPath === undefined ? undefined : parseJsonPath(column.jsonPath);
    } catch (error) {
      if (error instanceof JsonPathError) return undefined; // CRD validation rejects these; show no value
      throw error;
    }
  });
  const described = columns.map((c) => (c.description ? c : { ...c, description: `Custom resource definition column (in JSONPath format): ${c.jsonPath ?? ''}` }));
  return printer([NAME, ...described], (o, now) => [
    name(o),
    ...columns.map((column, i) => {
      const path = paths[i];
      const value = path === undefined ? null : cellValue(evaluate(path, o), column.type);
      return column.type === 'date' && typeof value === 'string' ? translateTimestampSince(value, now) : value;
    }),
  ]);
}

/** rest.DefaultTableConvertor: what kube serves for kinds without a printer of their own. */
const CREATED_AT = printer([NAME, col('Created At', 'date', DOC.creationTimestamp)], (o) => [name(o), createdAt(o)]);

// ---------------------------------------------------------------------------------------------
// Built-in kinds, keyed by "group/Kind"

const EVENT = printer(
  [
    col('Last Seen', 'string', DOC.eventLastTimestamp),
    col('Type', 'string', DOC.eventType),
    col('Reason', 'string', DOC.eventReason),
    col('Object', 'string', DOC.eventObject),
    col('Subobject', 'string', DOC.eventFieldPath, 1),
    col('Source', 'string', DOC.eventSource, 1),
    col('Message', 'string', DOC.eventMessage),
    col('First Seen', 'string', DOC.eventFirstTimestamp, 1),
    col('Count', 'string', DOC.eventCount, 1),
    { ...NAME, priority: 1 },
  ],
  eventCells,
);

const BUILTIN = new Map<string, TablePrinter>([
  [
    'cluster.karmada.io/Cluster',
    printer(
      [
        NAME,
        col('Version', 'string', 'Kubernetes version the member cluster reports.'),
        col('Mode', 'string', 'How the member receives its work: Push (the control plane applies it) or Pull (an agent fetches it).'),
        col('Ready', 'string', 'Status of the cluster\'s Ready condition; Unknown until one is reported.'),
        AGE,
        col('Zones', 'string', 'Failure zones the member cluster spans.', 1),
        col('Region', 'string', 'Region the member cluster is in.', 1),
        col('Provider', 'string', 'Cloud provider of the member cluster.', 1),
        col('API-Endpoint', 'string', 'Address of the member cluster\'s API server.', 1),
        col('Proxy-URL', 'string', 'Proxy used to reach the member cluster.', 1),
      ],
      clusterCells,
    ),
  ],
  ['/Namespace', printer([NAME, col('Status', 'string', 'The status of the namespace'), AGE], (o, now) => [name(o), str(field(o, 'status', 'phase')) || 'Active', age(o, now)])],
  ['/ConfigMap', printer([NAME, col('Data', 'string', DOC.configMapData), AGE], (o, now) => [name(o), size(o['data']) + size(o['binaryData']), age(o, now)])],
  ['/Secret', printer([NAME, col('Type', 'string', DOC.secretType), col('Data', 'string', DOC.secretData), AGE], (o, now) => [name(o), str(o['type']) || 'Opaque', secretKeys(o), age(o, now)])],
  ['/ServiceAccount', printer([NAME, col('Secrets', 'string', DOC.serviceAccountSecrets), AGE], (o, now) => [name(o), size(o['secrets']), age(o, now)])],
  ['/Endpoints', printer([NAME, col('Endpoints', 'string', DOC.endpointsSubsets), AGE], (o, now) => [name(o), formatEndpoints(list(o['subsets'])), age(o, now)])],
  [
    '/Service',
    printer(
      [NAME, col('Type', 'string', DOC.serviceType), col('Cluster-IP', 'string', DOC.clusterIP), col('External-IP', 'string', DOC.externalIPs), col('Port(s)', 'string', DOC.servicePorts), AGE, col('Selector', 'string', DOC.serviceSelector, 1)],
      serviceCells,
    ),
  ],
  [
    '/Node',
    printer(
      [
        NAME,
        col('Status', 'string', 'The status of the node'),
        col('Roles', 'string', 'The roles of the node'),
        AGE,
        col('Version', 'string', DOC.kubeletVersion),
        col('Internal-IP', 'string', DOC.nodeAddresses, 1),
        col('External-IP', 'string', DOC.nodeAddresses, 1),
        col('OS-Image', 'string', DOC.osImage, 1),
        col('Kernel-Version', 'string', DOC.kernelVersion, 1),
        col('Container-Runtime', 'string', DOC.containerRuntimeVersion, 1),
      ],
      nodeCells,
    ),
  ],
  [
    '/Pod',
    printer(
      [
        NAME,
        col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
        col('Status', 'string', 'The aggregate status of the containers in this pod.'),
        col('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
        AGE,
        col('IP', 'string', DOC.podIP, 1),
        col('Node', 'string', DOC.nodeName, 1),
        col('Nominated Node', 'string', DOC.nominatedNodeName, 1),
        col('Readiness Gates', 'string', DOC.readinessGates, 1),
      ],
      podCells,
      podConditions,
    ),
  ],
  ['/Event', EVENT],
  ['events.k8s.io/Event', EVENT],
  [
    'apps/Deployment',
    printer(
      [NAME, col('Ready', 'string', DOC.readyPods), col('Up-to-date', 'string', DOC.deploymentUpdated), col('Available', 'string', DOC.deploymentAvailable), AGE, CONTAINERS, IMAGES, col('Selector', 'string', DOC.deploymentSelector, 1)],
      (o, now) => [
        name(o),
        `${num(field(o, 'status', 'readyReplicas'))}/${replicas(o)}`,
        num(field(o, 'status', 'updatedReplicas')),
        num(field(o, 'status', 'availableReplicas')),
        age(o, now),
        ...containerCells(field(o, 'spec', 'template')),
        selectorString(field(o, 'spec', 'selector')) ?? '<invalid>',
      ],
    ),
  ],
  [
    'apps/ReplicaSet',
    printer(
      [NAME, col('Desired', 'integer', DOC.replicaSetDesired), col('Current', 'integer', DOC.replicaSetCurrent), col('Ready', 'integer', DOC.replicaSetReady), AGE, CONTAINERS, IMAGES, col('Selector', 'string', DOC.replicaSetSelector, 1)],
      (o, now) => [
        name(o),
        replicas(o),
        num(field(o, 'status', 'replicas')),
        num(field(o, 'status', 'readyReplicas')),
        age(o, now),
        ...containerCells(field(o, 'spec', 'template')),
        formatLabelSelector(field(o, 'spec', 'selector')),
      ],
    ),
  ],
  [
    'apps/StatefulSet',
    printer([NAME, col('Ready', 'string', DOC.readyPods), AGE, CONTAINERS, IMAGES], (o, now) => [
      name(o),
      `${num(field(o, 'status', 'readyReplicas'))}/${replicas(o)}`,
      age(o, now),
      ...containerCells(field(o, 'spec', 'template')),
    ]),
  ],
  [
    'apps/DaemonSet',
    printer(
      [
        NAME,
        col('Desired', 'integer', DOC.daemonSetDesired),
        col('Current', 'integer', DOC.daemonSetCurrent),
        col('Ready', 'integer', DOC.daemonSetReady),
        col('Up-to-date', 'integer', DOC.daemonSetUpdated),
        col('Available', 'integer', DOC.daemonSetAvailable),
        col('Node Selector', 'string', DOC.nodeSelector),
        AGE,
        CONTAINERS,
        IMAGES,
        col('Selector', 'string', DOC.daemonSetSelector, 1),
      ],
      (o, now) => [
        name(o),
        ...['desiredNumberScheduled', 'currentNumberScheduled', 'numberReady', 'updatedNumberScheduled', 'numberAvailable'].map((f) => num(field(o, 'status', f))),
        formatLabels(field(o, 'spec', 'template', 'spec', 'nodeSelector')),
        age(o, now),
        ...containerCells(field(o, 'spec', 'template')),
        formatLabelSelector(field(o, 'spec', 'selector')),
      ],
    ),
  ],
  [
    'batch/Job',
    printer(
      [NAME, col('Status', 'string', 'Status of the job.'), col('Completions', 'string', DOC.jobSucceeded), col('Duration', 'string', 'Time required to complete the job.'), AGE, CONTAINERS, IMAGES, col('Selector', 'string', DOC.jobSelector, 1)],
      jobCells,
    ),
  ],
  [
    'batch/CronJob',
    printer(
      [
        NAME,
        col('Schedule', 'string', DOC.cronSchedule),
        col('Timezone', 'string', DOC.cronTimeZone),
        col('Suspend', 'boolean', DOC.cronSuspend),
        col('Active', 'integer', DOC.cronActive),
        col('Last Schedule', 'string', DOC.cronLastSchedule),
        AGE,
        CONTAINERS,
        IMAGES,
        col('Selector', 'string', DOC.jobSelector, 1),
      ],
      (o, now) => {
        const last = field(o, 'status', 'lastScheduleTime');
        const timeZone = field(o, 'spec', 'timeZone');
        return [
          name(o),
          str(field(o, 'spec', 'schedule')),
          typeof timeZone === 'string' ? timeZone : '<none>',
          field(o, 'spec', 'suspend') === true ? 'True' : 'False', // kube defaults suspend to false
          size(field(o, 'status', 'active')),
          typeof last === 'string' ? translateTimestampSince(last, now) : '<none>',
          age(o, now),
          ...containerCells(field(o, 'spec', 'jobTemplate', 'spec', 'template')),
          formatLabelSelector(field(o, 'spec', 'jobTemplate', 'spec', 'selector')),
        ];
      },
    ),
  ],
  ['coordination.k8s.io/Lease', printer([NAME, col('Holder', 'string', DOC.leaseHolder), AGE], (o, now) => [name(o), str(field(o, 'spec', 'holderIdentity')), age(o, now)])],
  ['apiextensions.k8s.io/CustomResourceDefinition', CREATED_AT],
  ['rbac.authorization.k8s.io/Role', CREATED_AT],
  ['rbac.authorization.k8s.io/ClusterRole', CREATED_AT],
]);

// ---------------------------------------------------------------------------------------------
// Cells of the kinds with real logic

/** Karmada's cluster printer: READY is the Ready condition's status, Unknown without one; empty optional fields show <none>. */
function clusterCells(cluster: KubeObject, now: number): unknown[] {
  const spec = obj(cluster['spec']);
  const status = obj(cluster['status']);
  const ready = list(status['conditions']).map(obj).find((c) => c['type'] === 'Ready');
  const zones = list(spec['zones']).map(str).filter(Boolean);
  const optional = (value: unknown): string => str(value) || '<none>';
  return [
    name(cluster), str(status['kubernetesVersion']), str(spec['syncMode']), ready ? str(ready['status']) : 'Unknown', age(cluster, now),
    zones.length > 0 ? zones.join(',') : '<none>', optional(spec['region']), optional(spec['provider']), str(spec['apiEndpoint']), optional(spec['proxyURL']),
  ];
}

function podCells(pod: KubeObject, now: number): unknown[] {
  const spec = obj(pod['spec']);
  const status = obj(pod['status']);
  const phase = str(status['phase']);
  const conditions = list(status['conditions']).map(obj);
  const initContainers = list(spec['initContainers']).map(obj);
  const sidecarSpecs = initContainers.filter((c) => c['restartPolicy'] === 'Always'); // restartable init containers
  const sidecars = new Set(sidecarSpecs.map((c) => c['name']));
  const total = list(spec['containers']).length + sidecarSpecs.length;
  let reason = str(status['reason']) || phase;
  if (conditions.some((c) => c['type'] === 'PodScheduled' && c['reason'] === 'SchedulingGated')) reason = 'SchedulingGated';

  let ready = 0;
  let restarts = 0;
  let sidecarRestarts = 0;
  let lastRestart = 0; // epoch ms; 0 = never (Go's zero time)
  let lastSidecarRestart = 0;
  let initializing = false;
  const initStatuses = list(status['initContainerStatuses']).map(obj);
  for (const [i, c] of initStatuses.entries()) {
    const finished = lastTerminated(c);
    restarts += num(c['restartCount']);
    lastRestart = Math.max(lastRestart, finished);
    const sidecar = sidecars.has(c['name']);
    if (sidecar) {
      sidecarRestarts += num(c['restartCount']);
      lastSidecarRestart = Math.max(lastSidecarRestart, finished);
    }
    const terminated = optObj(field(c, 'state', 'terminated'));
    const waiting = optObj(field(c, 'state', 'waiting'));
    if (terminated && num(terminated['exitCode']) === 0) continue;
    if (sidecar && c['started'] === true) {
      if (c['ready'] === true) ready++;
      continue;
    }
    if (terminated) reason = `Init:${terminatedReason(terminated)}`;
    else if (waiting && str(waiting['reason']) !== '' && waiting['reason'] !== 'PodInitializing') reason = `Init:${str(waiting['reason'])}`;
    else reason = `Init:${i}/${initContainers.length}`;
    initializing = true;
    break;
  }

  if (!initializing || conditionTrue(conditions, 'Initialized')) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    for (const c of list(status['containerStatuses']).map(obj).reverse()) {
      restarts += num(c['restartCount']);
      lastRestart = Math.max(lastRestart, lastTerminated(c));
      const waiting = optObj(field(c, 'state', 'waiting'));
      const terminated = optObj(field(c, 'state', 'terminated'));
      if (waiting && str(waiting['reason']) !== '') reason = str(waiting['reason']);
      else if (terminated) reason = terminatedReason(terminated);
      else if (c['ready'] === true && optObj(field(c, 'state', 'running'))) {
        hasRunning = true;
        ready++;
      }
    }
    const podReady = conditions.some((c) => c['type'] === 'Ready' && c['status'] === 'True');
    if (reason === 'Completed' && hasRunning) reason = podReady ? 'Running' : 'NotReady';
  }

  if (pod.metadata.deletionTimestamp !== undefined && status['reason'] === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp !== undefined && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  const restartCell = restarts !== 0 && lastRestart !== 0 ? `${restarts} (${humanDuration(now - lastRestart)} ago)` : String(restarts);
  const gates = list(spec['readinessGates']).map(obj);
  const gatesTrue = gates.filter((g) => conditions.find((c) => c['type'] === g['conditionType'])?.['status'] === 'True').length;
  return [
    name(pod),
    `${ready}/${total}`,
    reason,
    restartCell,
    age(pod, now),
    podIP(status) || '<none>',
    str(spec['nodeName']) || '<none>',
    str(status['nominatedNodeName']) || '<none>',
    gates.length > 0 ? `${gatesTrue}/${gates.length}` : '<none>',
  ];
}

function podConditions(pod: KubeObject): TableRowCondition[] | undefined {
  const phase = field(pod, 'status', 'phase');
  if (phase === 'Succeeded') return [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }];
  if (phase === 'Failed') return [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];
  return undefined;
}

/** The terminated state's reason, else "Signal:N" / "ExitCode:N". */
function terminatedReason(terminated: Record<string, unknown>): string {
  if (str(terminated['reason']) !== '') return str(terminated['reason']);
  const signal = num(terminated['signal']);
  return signal !== 0 ? `Signal:${signal}` : `ExitCode:${num(terminated['exitCode'])}`;
}

function lastTerminated(status: Record<string, unknown>): number {
  const finishedAt = field(status, 'lastState', 'terminated', 'finishedAt');
  const time = typeof finishedAt === 'string' ? Date.parse(finishedAt) : Number.NaN;
  return Number.isNaN(time) ? 0 : time;
}

/** status.podIP wins over status.podIPs[0] (kube's v1 → internal conversion). */
function podIP(status: Record<string, unknown>): string {
  return str(status['podIP']) || str(obj(list(status['podIPs'])[0])['ip']);
}

/** Whether the first condition of this type is True. */
function conditionTrue(conditions: Record<string, unknown>[], type: string): boolean {
  return conditions.find((c) => c['type'] === type)?.['status'] === 'True';
}

function nodeCells(node: KubeObject, now: number): unknown[] {
  const status = obj(node['status']);
  const info = obj(status['nodeInfo']);
  const ready = list(status['conditions']).map(obj).findLast((c) => c['type'] === 'Ready');
  const states = [ready === undefined ? 'Unknown' : ready['status'] === 'True' ? 'Ready' : 'NotReady'];
  if (field(node, 'spec', 'unschedulable') === true) states.push('SchedulingDisabled');
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(node.metadata.labels ?? {})) {
    if (key.startsWith('node-role.kubernetes.io/') && key.length > 'node-role.kubernetes.io/'.length) roles.add(key.slice('node-role.kubernetes.io/'.length));
    else if (key === 'kubernetes.io/role' && value !== '') roles.add(value);
  }
  const address = (type: string) => str(list(status['addresses']).map(obj).find((a) => a['type'] === type)?.['address']) || '<none>';
  return [
    name(node),
    states.join(','),
    [...roles].sort().join(',') || '<none>',
    age(node, now),
    str(info['kubeletVersion']),
    address('InternalIP'),
    address('ExternalIP'),
    str(info['osImage']) || '<unknown>',
    str(info['kernelVersion']) || '<unknown>',
    str(info['containerRuntimeVersion']) || '<unknown>',
  ];
}

function serviceCells(service: KubeObject, now: number): unknown[] {
  const spec = obj(service['spec']);
  const type = str(spec['type']) || 'ClusterIP';
  const ports = list(spec['ports']).map(obj).map((p) => {
    const nodePort = num(p['nodePort']);
    return `${num(p['port'])}${nodePort > 0 ? `:${nodePort}` : ''}/${str(p['protocol']) || 'TCP'}`;
  });
  return [
    name(service),
    type,
    str(spec['clusterIP']) || str(list(spec['clusterIPs'])[0]) || '<none>',
    externalIP(type, spec, obj(service['status'])),
    ports.join(',') || '<none>',
    age(service, now),
    formatLabels(spec['selector']),
  ];
}

function externalIP(type: string, spec: Record<string, unknown>, status: Record<string, unknown>): string {
  const externalIPs = list(spec['externalIPs']).map(str);
  switch (type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.join(',') || '<none>';
    case 'LoadBalancer': {
      const ingress = list(field(status, 'loadBalancer', 'ingress')).map(obj);
      const lb = [...new Set(ingress.map((i) => str(i['ip']) || str(i['hostname'])).filter((s) => s !== ''))].sort();
      return [...lb, ...externalIPs].join(',') || '<pending>';
    }
    case 'ExternalName':
      return str(spec['externalName']);
    default:
      return '<unknown>';
  }
}

/** Up to three "ip:port" (or bare ip for port-less subsets), then " + N more...". */
function formatEndpoints(subsets: unknown[]): string {
  if (subsets.length === 0) return '<none>';
  const shown: string[] = [];
  let count = 0;
  for (const subset of subsets.map(obj)) {
    const ips = list(subset['addresses']).map((a) => str(obj(a)['ip']));
    const ports = list(subset['ports']).map(obj);
    for (const port of ports.length === 0 ? [undefined] : ports) {
      count += ips.length;
      for (const ip of ips) {
        if (shown.length === 3) break;
        shown.push(port === undefined ? ip : `${ip.includes(':') ? `[${ip}]` : ip}:${num(port['port'])}`);
      }
    }
  }
  return count > 3 ? `${shown.join(',')} + ${count - 3} more...` : shown.join(',');
}

function eventCells(event: KubeObject, now: number): unknown[] {
  // events.k8s.io/v1 names some core/v1 fields differently; both are printed from the same data.
  const pick = (core: string, events: string): unknown => event[core] ?? event[events];
  const since = (ts: unknown) => translateTimestampSince(typeof ts === 'string' ? ts : undefined, now);
  const firstSeen = since(pick('firstTimestamp', 'deprecatedFirstTimestamp'));
  const first = firstSeen === '<unknown>' ? since(event['eventTime']) : firstSeen;
  const lastSeen = since(pick('lastTimestamp', 'deprecatedLastTimestamp'));
  let last = lastSeen === '<unknown>' ? first : lastSeen;
  let count = num(pick('count', 'deprecatedCount'));
  const series = optObj(event['series']);
  if (series) {
    last = since(series['lastObservedTime']);
    count = num(series['count']);
  } else if (count === 0) count = 1;
  const involved = obj(pick('involvedObject', 'regarding'));
  const kind = str(involved['kind']).toLowerCase();
  const source = obj(pick('source', 'deprecatedSource'));
  const component = str(source['component']) || str(pick('reportingComponent', 'reportingController'));
  const host = str(source['host']) || str(event['reportingInstance']);
  return [
    last,
    str(event['type']),
    str(event['reason']),
    str(involved['name']) ? `${kind}/${str(involved['name'])}` : kind,
    str(involved['fieldPath']),
    host ? `${component}, ${host}` : component,
    str(pick('message', 'note')).trim(),
    first,
    count,
    name(event),
  ];
}

function jobCells(job: KubeObject, now: number): unknown[] {
  const spec = obj(job['spec']);
  const status = obj(job['status']);
  const succeeded = num(status['succeeded']);
  const parallelism = num(spec['parallelism']);
  const completions =
    typeof spec['completions'] === 'number' ? `${succeeded}/${spec['completions']}` : parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
  const start = typeof status['startTime'] === 'string' ? Date.parse(status['startTime']) : Number.NaN;
  const end = typeof status['completionTime'] === 'string' ? Date.parse(status['completionTime']) : now;
  const conditions = list(status['conditions']).map(obj);
  const state =
    conditionTrue(conditions, 'Complete') ? 'Complete'
    : conditionTrue(conditions, 'Failed') ? 'Failed'
    : job.metadata.deletionTimestamp !== undefined ? 'Terminating'
    : conditionTrue(conditions, 'Suspended') ? 'Suspended'
    : conditionTrue(conditions, 'FailureTarget') ? 'FailureTarget'
    : 'Running';
  return [
    name(job),
    state,
    completions,
    Number.isNaN(start) ? '' : humanDuration(end - start),
    age(job, now),
    ...containerCells(spec['template']),
    formatLabelSelector(spec['selector']),
  ];
}

// ---------------------------------------------------------------------------------------------
// Formatting helpers

/** Comma-joined container names and images of a pod template. */
function containerCells(template: unknown): [string, string] {
  const containers = list(field(template, 'spec', 'containers')).map(obj);
  return [containers.map((c) => str(c['name'])).join(','), containers.map((c) => str(c['image'])).join(',')];
}

/** labels.FormatLabels: "k=v,…" sorted by key, "<none>" when empty. */
function formatLabels(labels: unknown): string {
  const entries = Object.entries(obj(labels)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.map(([k, v]) => `${k}=${str(v)}`).join(',') || '<none>';
}

/** metav1.FormatLabelSelector: the selector string, "<none>" when it selects everything or nothing. */
function formatLabelSelector(selector: unknown): string {
  const text = selectorString(selector);
  return text === undefined ? '<error>' : text || '<none>';
}

/** A LabelSelector as kube prints it ("a=b,c in (d,e),!f"), sorted by key; undefined when invalid. */
function selectorString(selector: unknown): string | undefined {
  if (!isPlainObject(selector)) return '';
  const requirements: [string, string][] = Object.entries(obj(selector['matchLabels'])).map(([k, v]) => [k, `${k}=${str(v)}`]);
  for (const expr of list(selector['matchExpressions']).map(obj)) {
    const key = str(expr['key']);
    const values = list(expr['values']).map(str);
    const set = values.length === 1 ? (values[0] ?? '') : [...values].sort().join(',');
    switch (expr['operator']) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) return undefined;
        requirements.push([key, `${key} ${expr['operator'] === 'In' ? 'in' : 'notin'} (${set})`]);
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) return undefined;
        requirements.push([key, `${expr['operator'] === 'Exists' ? '' : '!'}${key}`]);
        break;
      default:
        return undefined;
    }
  }
  return requirements
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, text]) => text)
    .join(',');
}

// ---------------------------------------------------------------------------------------------
// Loose access to unvalidated JSON

function obj(value: unknown): Record<string, unknown> {
  return isPlainObject(value) ? value : {};
}

function optObj(value: unknown): Record<string, unknown> | undefined {
  return isPlainObject(value) ? value : undefined;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function num(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}

function size(value: unknown): number {
  return Array.isArray(value) ? value.length : isPlainObject(value) ? Object.keys(value).length : 0;
}

/** Keys of data plus stringData (kube merges stringData into data on write). */
function secretKeys(secret: KubeObject): number {
  return new Set([...Object.keys(obj(secret['data'])), ...Object.keys(obj(secret['stringData']))]).size;
}

function field(value: unknown, ...path: string[]): unknown {
  return path.reduce<unknown>((current, key) => (isPlainObject(current) ? current[key] : undefined), value);
}

function name(object: KubeObject): string {
  return object.metadata.name ?? '';
}

function age(object: KubeObject, now: number): string {
  return translateTimestampSince(object.metadata.creationTimestamp, now);
}

/** spec.replicas, which kube defaults to 1. */
function replicas(object: KubeObject): number {
  const value = field(object, 'spec', 'replicas');
  return typeof value === 'number' ? value : 1;
}

/** creationTimestamp in UTC, second precision, Go's zero time when unset. */
function createdAt(object: KubeObject): string {
  const time = Date.parse(object.metadata.creationTimestamp ?? '');
  return Number.isNaN(time) ? '0001-01-01T00:00:00Z' : `${new Date(time).toISOString().slice(0, 19)}Z`;
}
