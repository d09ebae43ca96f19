import { isPlainObject, timestamp } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import { clusterOfExecutionNamespace } from './names.js';
import { StatusFieldError, integerField, jobCondition, listField, loadBalancerIngresses, objectField, stringField, timeField, withoutEmpty } from './status-reflection.js';
import type { Health } from './status-reflection.js';

/**
 * From Works back to the binding and the resource template (karmada-api.md §2.5, §4.4), as Karmada's
 * helper (pkg/util/helper/workstatus.go) and native AggregateStatus interpreters (aggregatestatus.go) do:
 *
 *  - aggregatedStatusItems: one item per cluster that has a (not deleting) Work of the binding, sorted by
 *    cluster name. An Applied=True Work gives `applied: true` with the reflected status and the health of
 *    the manifest that is the template (identifier ordinal/group/version/kind/namespace/name); health is
 *    Unknown while that manifest has not reported. Any other Work gives `applied: false`, the Applied
 *    condition's message (when there is one) and health Unknown. (Karmada's JSON leaves `applied: false`
 *    out through Go's omitempty; Flotilla writes it, which reads the same to every client.)
 *  - fullyAppliedCondition: True (FullyAppliedSuccess) only when the items are exactly the expected
 *    clusters — spec.clusters, requiredBy snapshots' clusters and graceful-eviction tasks other than
 *    purgeMode Directly — and every one is applied; a leftover Work on a cluster no longer expected also
 *    keeps it False (FullyAppliedFailed).
 *  - aggregateTemplateStatus: the template's new `.status` for the kinds Karmada aggregates natively:
 *    Deployment, ReplicaSet, StatefulSet, DaemonSet (counters summed; observedGeneration becomes the
 *    template's generation only when every item reports a status whose member observed its own
 *    generation and was built from the current template generation, else it stays), Service of type
 *    LoadBalancer and Ingress (load balancer entries merged, deduplicated, sorted), Job (counters summed,
 *    Failed when any member failed, Complete only when every member completed; frozen once finished),
 *    CronJob (active jobs joined, latest schedule/success times), Pod (worst phase, container readiness),
 *    PersistentVolume and PersistentVolumeClaim (worst phase), PodDisruptionBudget and
 *    HorizontalPodAutoscaler (autoscaling/v2, summed). Like Karmada, the kinds whose whole status is
 *    rebuilt (Service, Ingress, Job, CronJob, Pod, PV, PVC, PDB, HPA) lose the fields it does not rebuild,
 *    while workloads keep theirs (conditions, collisionCount, ...).
 *    undefined for other kinds, and when Karmada would leave the template as it is but it has no status
 *    (nothing to write); a member status that does not decode also leaves the template alone.
 *
 * Where Flotilla differs on purpose:
 *  - a StatefulSet member counts as caught up when its resourceTemplateGeneration reaches the template's
 *    generation, like the other workloads (Karmada compares it with the member's own generation, and its
 *    reflection lacks observedGeneration, so the federated StatefulSet's observedGeneration never moves);
 *  - an Applied condition that carries an observedGeneration older than the Work's generation (Flotilla's
 *    execution controller writes it) means the manifest's health is not known yet: Unknown;
 *  - a Work whose manifests do not include the template is matched without the ordinal (Karmada fails
 *    the whole aggregation).
 */
export interface AggregatedStatusItem {
  clusterName: string;
  status?: Record<string, unknown>;
  applied?: boolean;
  appliedMessage?: string;
  health?: Health;
}

export interface FullyAppliedCondition {
  type: 'FullyApplied';
  status: 'True' | 'False';
  reason: string;
  message: string;
}

export const FULLY_APPLIED_SUCCESS_REASON = 'FullyAppliedSuccess';
export const FULLY_APPLIED_FAILED_REASON = 'FullyAppliedFailed';
export const FULLY_APPLIED_SUCCESS_MESSAGE = 'All works have been successfully applied';
export const FULLY_APPLIED_FAILED_MESSAGE = 'Failed to apply all works, see status.aggregatedStatus for details';

type Obj = Record<string, unknown>;
const asObject = (value: unknown): Obj | undefined => (isPlainObject(value) ? value : undefined);
const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

interface TemplateReference {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  /** Group and version parsed from apiVersion; undefined when apiVersion does not parse. */
  groupVersion: { group: string; version: string } | undefined;
}

function templateReference(binding: KubeObject): TemplateReference {
  const resource = asObject(asObject(binding['spec'])?.['resource']) ?? {};
  const text = (field: string): string => (typeof resource[field] === 'string' ? (resource[field] as string) : '');
  const apiVersion = text('apiVersion');
  const parts = apiVersion.split('/');
  const groupVersion =
    parts.length === 1 ? { group: '', version: parts[0] ?? '' } : parts.length === 2 ? { group: parts[0] ?? '', version: parts[1] ?? '' } : undefined;
  return { apiVersion, kind: text('kind'), namespace: text('namespace'), name: text('name'), groupVersion };
}

/** Index of the template among the Work's manifests; undefined when it is not there. */
function manifestOrdinal(work: KubeObject, ref: TemplateReference): number | undefined {
  const manifests = asList(asObject(asObject(work['spec'])?.['workload'])?.['manifests']);
  const index = manifests.findIndex((entry) => {
    const manifest = asObject(entry);
    const metadata = asObject(manifest?.['metadata']);
    return manifest?.['apiVersion'] === ref.apiVersion && manifest['kind'] === ref.kind && (metadata?.['namespace'] ?? '') === ref.namespace && metadata?.['name'] === ref.name;
  });
  return index >= 0 ? index : undefined;
}

function identifies(identifier: Obj | undefined, ordinal: number | undefined, ref: TemplateReference): boolean {
  if (!identifier || !ref.groupVersion) return false;
  return (
    (ordinal === undefined || identifier['ordinal'] === ordinal) &&
    (identifier['group'] ?? '') === ref.groupVersion.group &&
    identifier['version'] === ref.groupVersion.version &&
    identifier['kind'] === ref.kind &&
    (identifier['namespace'] ?? '') === ref.namespace &&
    identifier['name'] === ref.name
  );
}

const HEALTH_VALUES: ReadonlySet<unknown> = new Set(['Healthy', 'Unhealthy', 'Unknown']);

/** The binding's `status.aggregatedStatus` from its Works (see the module comment). */
export function aggregatedStatusItems(binding: KubeObject, works: readonly KubeObject[]): AggregatedStatusItem[] {
  const ref = templateReference(binding);
  const items: AggregatedStatusItem[] = [];
  for (const work of works) {
    if (work.metadata.deletionTimestamp) continue;
    const clusterName = clusterOfExecutionNamespace(work.metadata.namespace);
    if (clusterName === undefined) continue;
    const status = asObject(work['status']);
    const applied = asList(status?.['conditions']).map(asObject).find((c) => c?.['type'] === 'Applied');
    if (applied?.['status'] !== 'True') {
      const message = applied?.['message'];
      items.push({ clusterName, applied: false, ...(typeof message === 'string' && message !== '' ? { appliedMessage: message } : {}), health: 'Unknown' });
      continue;
    }
    const ordinal = manifestOrdinal(work, ref);
    const manifest = asList(status?.['manifestStatuses']).map(asObject).find((m) => identifies(asObject(m?.['identifier']), ordinal, ref));
    const reflected = asObject(manifest?.['status']);
    const observed = applied['observedGeneration'];
    const stale = typeof observed === 'number' && work.metadata.generation !== undefined && observed < work.metadata.generation;
    const health = !manifest || stale ? 'Unknown' : HEALTH_VALUES.has(manifest['health']) ? (manifest['health'] as Health) : undefined;
    items.push({ clusterName, ...(reflected ? { status: structuredClone(reflected) } : {}), applied: true, ...(health ? { health } : {}) });
  }
  return items.sort((a, b) => byName(a.clusterName, b.clusterName));
}

/** Clusters a binding expects Works on: Karmada's ObtainBindingSpecExistingClusters. */
export function expectedClusters(binding: KubeObject): Set<string> {
  const spec = asObject(binding['spec']) ?? {};
  const names = new Set<string>();
  const addTargets = (targets: unknown) => {
    for (const target of asList(targets)) {
      const name = asObject(target)?.['name'];
      if (typeof name === 'string') names.add(name);
    }
  };
  addTargets(spec['clusters']);
  for (const snapshot of asList(spec['requiredBy'])) addTargets(asObject(snapshot)?.['clusters']);
  for (const entry of asList(spec['gracefulEvictionTasks'])) {
    const task = asObject(entry);
    if (task && task['purgeMode'] !== 'Directly' && typeof task['fromCluster'] === 'string') names.add(task['fromCluster']);
  }
  return names;
}

/** The binding's FullyApplied condition for these items (lastTransitionTime is the caller's). */
export function fullyAppliedCondition(binding: KubeObject, items: readonly AggregatedStatusItem[]): FullyAppliedCondition {
  const expected = expectedClusters(binding);
  const fullyApplied = expected.size > 0 && expected.size === items.length && items.every((item) => item.applied === true && expected.has(item.clusterName));
  return fullyApplied
    ? { type: 'FullyApplied', status: 'True', reason: FULLY_APPLIED_SUCCESS_REASON, message: FULLY_APPLIED_SUCCESS_MESSAGE }
    : { type: 'FullyApplied', status: 'False', reason: FULLY_APPLIED_FAILED_REASON, message: FULLY_APPLIED_FAILED_MESSAGE };
}

/** What an aggregator answers when Karmada returns the template as it was. */
const UNCHANGED = Symbol('unchanged');
type Aggregator = (template: KubeObject, items: readonly AggregatedStatusItem[], now: Date) => Obj | typeof UNCHANGED;

/** How a workload's status is summed: counters, the typed field order, and the fields Go always writes. */
interface WorkloadStatusShape {
  counters: readonly string[];
  order: readonly string[];
  alwaysWritten: ReadonlySet<string>;
}

const WORKLOAD_SHAPES: Readonly<Record<string, WorkloadStatusShape>> = {
  Deployment: {
    counters: ['replicas', 'readyReplicas', 'updatedReplicas', 'availableReplicas', 'unavailableReplicas'],
    order: ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas', 'terminatingReplicas', 'conditions', 'collisionCount'],
    alwaysWritten: new Set(),
  },
  ReplicaSet: {
    counters: ['replicas', 'readyReplicas', 'availableReplicas'],
    order: ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'terminatingReplicas', 'observedGeneration', 'conditions'],
    alwaysWritten: new Set(['replicas']),
  },
  StatefulSet: {
    counters: ['availableReplicas', 'currentReplicas', 'readyReplicas', 'replicas', 'updatedReplicas'],
    order: ['observedGeneration', 'replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'currentRevision', 'updateRevision', 'collisionCount', 'conditions', 'availableReplicas'],
    alwaysWritten: new Set(['replicas', 'availableReplicas']),
  },
  DaemonSet: {
    counters: ['currentNumberScheduled', 'desiredNumberScheduled', 'numberAvailable', 'numberMisscheduled', 'numberReady', 'updatedNumberScheduled', 'numberUnavailable'],
    order: ['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady', 'observedGeneration', 'updatedNumberScheduled', 'numberAvailable', 'numberUnavailable', 'collisionCount', 'conditions'],
    alwaysWritten: new Set(['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady']),
  },
};

/** Sums a workload's counters; observedGeneration moves only once every member caught up. */
function aggregateWorkload(shape: WorkloadStatusShape): Aggregator {
  return (template, items) => {
    const old = objectField(template, 'status') ?? {};
    const generation = template.metadata.generation ?? 0;
    const sums = new Map(shape.counters.map((field) => [field, 0]));
    let caughtUp = 0;
    for (const item of items) {
      const member = item.status;
      if (!member) continue;
      if (integerField(member, 'observedGeneration') >= integerField(member, 'generation') && integerField(member, 'resourceTemplateGeneration') >= generation) caughtUp++;
      for (const field of shape.counters) sums.set(field, (sums.get(field) ?? 0) + integerField(member, field));
    }
    // An item without a status (not applied, not reported yet) counts as not caught up.
    sums.set('observedGeneration', caughtUp === items.length ? generation : integerField(old, 'observedGeneration'));
    if ([...sums].every(([field, value]) => integerField(old, field) === value)) return UNCHANGED;
    const next: Obj = {};
    for (const field of shape.order) {
      const value = sums.has(field) ? sums.get(field) : old[field];
      if (value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)) continue;
      if (value === 0 && sums.has(field) && !shape.alwaysWritten.has(field)) continue;
      next[field] = structuredClone(value);
    }
    return next;
  };
}

/** Karmada's DedupeAndSort{Service,Ingress}LoadBalancerIngress: one entry per address, ports merged. */
function mergeLoadBalancerIngress(entries: readonly Obj[]): Obj[] {
  const merged = new Map<string, { entry: Obj; ports: Map<string, Obj> }>();
  for (const entry of entries) {
    const key = JSON.stringify([entry['hostname'] ?? '', entry['ip'] ?? '', entry['ipMode'] ?? null]);
    const slot = merged.get(key) ?? { entry, ports: new Map<string, Obj>() };
    for (const port of asList(entry['ports']) as Obj[]) slot.ports.set(JSON.stringify([port['port'], port['protocol'], port['error'] ?? null]), port);
    merged.set(key, slot);
  }
  const text = (value: unknown): string => (typeof value === 'string' ? value : '');
  const portOrder = (a: Obj, b: Obj): number => {
    if (a['port'] !== b['port']) return (a['port'] as number) - (b['port'] as number);
    if (a['protocol'] !== b['protocol']) return byName(text(a['protocol']), text(b['protocol']));
    if (a['error'] === undefined) return b['error'] === undefined ? 0 : -1;
    return b['error'] === undefined ? 1 : byName(text(a['error']), text(b['error']));
  };
  const out = [...merged.values()].map(({ entry, ports }) => {
    const { ports: _ports, ...rest } = entry;
    return ports.size > 0 ? { ...rest, ports: [...ports.values()].sort(portOrder) } : rest;
  });
  return out.sort((a, b) => {
    const [ha, hb] = [text(a['hostname']), text(b['hostname'])];
    if (ha !== hb) return hb === '' ? -1 : ha === '' ? 1 : byName(ha, hb);
    const [ia, ib] = [text(a['ip']), text(b['ip'])];
    if (ia !== ib) return byName(ia, ib);
    if (b['ipMode'] === undefined) return a['ipMode'] === undefined ? 0 : -1;
    return a['ipMode'] === undefined ? 1 : byName(text(a['ipMode']), text(b['ipMode']));
  });
}

function loadBalancerStatus(items: readonly AggregatedStatusItem[], withIpMode: boolean): Obj {
  const ingress = mergeLoadBalancerIngress(items.flatMap((item) => (item.status ? loadBalancerIngresses(item.status, withIpMode) : [])));
  return { loadBalancer: ingress.length > 0 ? { ingress } : {} };
}

const isFinishedCondition = (condition: Obj): boolean => (condition['type'] === 'Complete' || condition['type'] === 'Failed') && condition['status'] === 'True';

/** Karmada's aggregateJobStatus + ParsingJobStatus. */
const aggregateJob: Aggregator = (template, items, now) => {
  const old = objectField(template, 'status');
  // A finished Job's status is never touched again.
  if (listField(old, 'conditions').map(jobCondition).some(isFinishedCondition)) return UNCHANGED;
  let active = 0;
  let succeeded = 0;
  let failed = 0;
  const failedIn: string[] = [];
  let completed = 0;
  let successCriteriaMet = 0;
  let started = 0;
  let finished = 0;
  let earliestStart: string | undefined;
  let latestCompletion: string | undefined;
  for (const item of items) {
    const member = item.status;
    if (!member) continue;
    active += integerField(member, 'active');
    succeeded += integerField(member, 'succeeded');
    failed += integerField(member, 'failed');
    const conditions = listField(member, 'conditions').map(jobCondition);
    const finish = conditions.find(isFinishedCondition);
    if (finish?.['type'] === 'Complete') completed++;
    else if (finish?.['type'] === 'Failed') failedIn.push(item.clusterName);
    if (conditions.some((c) => c['type'] === 'SuccessCriteriaMet' && c['status'] === 'True')) successCriteriaMet++;
    const startTime = timeField(member, 'startTime');
    if (startTime !== undefined) {
      started++;
      if (earliestStart === undefined || Date.parse(startTime) < Date.parse(earliestStart)) earliestStart = startTime;
    }
    const completionTime = timeField(member, 'completionTime');
    if (completionTime !== undefined) {
      finished++;
      if (latestCompletion === undefined || Date.parse(latestCompletion) < Date.parse(completionTime)) latestCompletion = completionTime;
    }
  }
  const at = timestamp(now);
  const condition = (type: string, reason: string, message: string): Obj => ({ type, status: 'True', lastProbeTime: at, lastTransitionTime: at, reason, message });
  const conditions: Obj[] = [];
  if (failedIn.length > 0) conditions.push(condition('Failed', 'JobFailed', `Job executed failed in member clusters ${failedIn.join(',')}`));
  // No items (a binding just created) never makes a Job complete.
  if (completed > 0 && completed === items.length) {
    conditions.push(condition('Complete', 'Completed', 'Job completed'));
    if (successCriteriaMet === items.length) conditions.push(condition('SuccessCriteriaMet', 'CompletionsReached', 'All member clusters have met success criteria'));
  }
  // The template keeps the start time it has; otherwise the earliest, once every member started.
  const startTime = timeField(old, 'startTime') ?? (started > 0 && started === items.length ? earliestStart : undefined);
  const completionTime = latestCompletion !== undefined && finished === items.length ? latestCompletion : undefined;
  return {
    ...(conditions.length > 0 ? { conditions } : {}),
    ...withoutEmpty([
      ['startTime', startTime],
      ['completionTime', completionTime],
      ['active', active],
      ['succeeded', succeeded],
      ['failed', failed],
    ]),
  };
};

/** The later of two metav1.Time values (either may be absent). */
const later = (a: string | undefined, b: string | undefined): string | undefined => (a === undefined ? b : b !== undefined && Date.parse(a) < Date.parse(b) ? b : a);

const aggregateCronJob: Aggregator = (_template, items) => {
  const active: unknown[] = [];
  let lastScheduleTime: string | undefined;
  let lastSuccessfulTime: string | undefined;
  for (const item of items) {
    if (!item.status) continue;
    active.push(...listField(item.status, 'active').map((reference) => structuredClone(reference)));
    lastScheduleTime = later(lastScheduleTime, timeField(item.status, 'lastScheduleTime'));
    lastSuccessfulTime = later(lastSuccessfulTime, timeField(item.status, 'lastSuccessfulTime'));
  }
  return { ...(active.length > 0 ? { active } : {}), ...withoutEmpty([['lastScheduleTime', lastScheduleTime], ['lastSuccessfulTime', lastSuccessfulTime]]) };
};

/** The first phase of `precedence` any item is in; an item without a status counts as `missing`. */
function worstPhase(items: readonly AggregatedStatusItem[], precedence: readonly string[], missing: string): string {
  const phases = new Set(items.map((item) => (item.status ? stringField(item.status, 'phase') : missing)));
  return precedence.find((phase) => phases.has(phase)) ?? '';
}

/** A container status as Karmada rebuilds it: readiness and state only, Go's zero values around them. */
function containerReadiness(entry: unknown): Obj {
  const status = asObject(entry);
  if (!status) throw new StatusFieldError('containerStatuses', entry);
  const ready = status['ready'] ?? false;
  if (typeof ready !== 'boolean') throw new StatusFieldError('ready', ready);
  return { name: '', state: structuredClone(objectField(status, 'state') ?? {}), lastState: {}, ready, restartCount: 0, image: '', imageID: '' };
}

const aggregatePod: Aggregator = (_template, items) => {
  if (items.length === 0) return UNCHANGED;
  const phase = worstPhase(items, ['Failed', 'Pending', 'Running', 'Succeeded'], 'Pending');
  const initContainerStatuses = items.flatMap((item) => listField(item.status, 'initContainerStatuses').map(containerReadiness));
  const containerStatuses = items.flatMap((item) => listField(item.status, 'containerStatuses').map(containerReadiness));
  return {
    ...withoutEmpty([['phase', phase]]),
    ...(initContainerStatuses.length > 0 ? { initContainerStatuses } : {}),
    ...(containerStatuses.length > 0 ? { containerStatuses } : {}),
  };
};

const aggregatePersistentVolume: Aggregator = (_template, items) =>
  withoutEmpty([['phase', worstPhase(items, ['Failed', 'Pending', 'Available', 'Bound', 'Released'], 'Pending')]]);

const aggregatePersistentVolumeClaim: Aggregator = (_template, items) => {
  let phase = 'Bound';
  for (const item of items) {
    if (!item.status) continue;
    const memberPhase = stringField(item.status, 'phase');
    if (memberPhase === 'Lost') {
      phase = 'Lost';
      break;
    }
    if (memberPhase !== 'Bound') phase = memberPhase;
  }
  return withoutEmpty([['phase', phase]]);
};

const aggregatePodDisruptionBudget: Aggregator = (_template, items) => {
  const disruptedPods: Obj = {};
  const sums = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
  for (const item of items) {
    if (!item.status) continue;
    for (const field of Object.keys(sums) as (keyof typeof sums)[]) sums[field] += integerField(item.status, field);
    const disrupted = objectField(item.status, 'disruptedPods') ?? {};
    for (const pod of Object.keys(disrupted)) disruptedPods[`${item.clusterName}/${pod}`] = timeField(disrupted, pod);
  }
  return { ...(Object.keys(disruptedPods).length > 0 ? { disruptedPods } : {}), ...sums };
};

const aggregateHorizontalPodAutoscaler: Aggregator = (_template, items) => {
  let currentReplicas = 0;
  let desiredReplicas = 0;
  for (const item of items) {
    if (!item.status) continue;
    currentReplicas += integerField(item.status, 'currentReplicas');
    desiredReplicas += integerField(item.status, 'desiredReplicas');
  }
  return { ...withoutEmpty([['currentReplicas', currentReplicas]]), desiredReplicas };
};

const AGGREGATORS: Readonly<Record<string, Aggregator>> = {
  'apps/v1/Deployment': aggregateWorkload(WORKLOAD_SHAPES['Deployment'] as WorkloadStatusShape),
  'apps/v1/ReplicaSet': aggregateWorkload(WORKLOAD_SHAPES['ReplicaSet'] as WorkloadStatusShape),
  'apps/v1/StatefulSet': aggregateWorkload(WORKLOAD_SHAPES['StatefulSet'] as WorkloadStatusShape),
  'apps/v1/DaemonSet': aggregateWorkload(WORKLOAD_SHAPES['DaemonSet'] as WorkloadStatusShape),
  'v1/Service': (template, items) => (stringField(objectField(template, 'spec'), 'type') === 'LoadBalancer' ? loadBalancerStatus(items, true) : UNCHANGED),
  'networking.k8s.io/v1/Ingress': (_template, items) => loadBalancerStatus(items, false),
  'batch/v1/Job': aggregateJob,
  'batch/v1/CronJob': aggregateCronJob,
  'v1/Pod': aggregatePod,
  'v1/PersistentVolume': aggregatePersistentVolume,
  'v1/PersistentVolumeClaim': aggregatePersistentVolumeClaim,
  'policy/v1/PodDisruptionBudget': aggregatePodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': aggregateHorizontalPodAutoscaler,
};

/** True when the template's kind has a native status aggregator. */
export function hasStatusAggregator(template: KubeObject): boolean {
  return AGGREGATORS[`${template.apiVersion ?? ''}/${template.kind ?? ''}`] !== undefined;
}

/**
 * The template's new `.status` from the binding's items (Karmada's AggregateStatus); undefined when the
 * template's status is to be left alone. `now` stamps the Job conditions it adds.
 */
export function aggregateTemplateStatus(template: KubeObject, items: readonly AggregatedStatusItem[], now: Date = new Date()): Record<string, unknown> | undefined {
  const aggregator = AGGREGATORS[`${template.apiVersion ?? ''}/${template.kind ?? ''}`];
  if (!aggregator) return undefined;
  let next: Obj | typeof UNCHANGED;
  try {
    next = aggregator(template, items, now);
  } catch (err) {
    if (err instanceof StatusFieldError) return undefined;
    throw err;
  }
  if (next !== UNCHANGED) return next;
  const current = template['status'];
  return isPlainObject(current) ? structuredClone(current) : undefined;
}
