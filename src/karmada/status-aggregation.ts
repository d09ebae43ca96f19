import { isPlainObject } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import { clusterOfExecutionNamespace } from './names.js';
import type { Health } from './status-reflection.js';

/**
 * From Works back to the binding and the template (karmada-api.md §2.5, §4.4):
 *  - aggregatedStatusItems: one item per cluster that has a Work of the binding, sorted by cluster —
 *    applied with the reflected status and health of the template's manifest, or not applied with the
 *    Applied condition's message and health Unknown;
 *  - fullyAppliedCondition: True (FullyAppliedSuccess) only when every expected cluster — spec.clusters,
 *    the clusters of requiredBy snapshots, and graceful-eviction tasks other than purgeMode Directly —
 *    has an applied item;
 *  - aggregateTemplateStatus: Karmada's native AggregateStatus for Deployment, ReplicaSet, StatefulSet,
 *    DaemonSet and Job (counters summed; observedGeneration moves to the template's generation only when
 *    every member has observed its own generation built from the current template generation); other
 *    kinds keep their status (undefined).
 */
export interface AggregatedStatusItem {
  clusterName: string;
  status?: Record<string, unknown>;
  applied?: boolean;
  appliedMessage?: string;
  health?: Health;
}

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj | undefined => (isPlainObject(value) ? value : undefined);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const num = (value: unknown): number => (typeof value === 'number' ? value : 0);

function condition(object: KubeObject, type: string): Obj | undefined {
  return list(obj(object['status'])?.['conditions']).map(obj).find((c) => c?.['type'] === type);
}

export function aggregatedStatusItems(binding: KubeObject, works: readonly KubeObject[]): AggregatedStatusItem[] {
  const resource = obj(obj(binding['spec'])?.['resource']) ?? {};
  const [group, version] = String(resource['apiVersion'] ?? '').includes('/') ? String(resource['apiVersion']).split('/') : ['', String(resource['apiVersion'] ?? '')];
  const items: AggregatedStatusItem[] = [];
  for (const work of works) {
    const clusterName = clusterOfExecutionNamespace(work.metadata.namespace);
    if (clusterName === undefined) continue;
    const applied = condition(work, 'Applied');
    if (applied?.['status'] !== 'True') {
      items.push({ clusterName, applied: false, ...(typeof applied?.['message'] === 'string' ? { appliedMessage: applied['message'] } : {}), health: 'Unknown' });
      continue;
    }
    const manifest = list(obj(work['status'])?.['manifestStatuses']).map(obj).find((m) => {
      const id = obj(m?.['identifier']) ?? {};
      return (id['group'] ?? '') === group && id['version'] === version && id['kind'] === resource['kind'] && (id['namespace'] ?? '') === (resource['namespace'] ?? '') && id['name'] === resource['name'];
    });
    const status = obj(manifest?.['status']);
    // Applied for an older generation of the Work: what it reports is not about the current one yet.
    const current = typeof applied['observedGeneration'] !== 'number' || work.metadata.generation === undefined || applied['observedGeneration'] >= work.metadata.generation;
    const health = current ? ((manifest?.['health'] as Health | undefined) ?? 'Unknown') : 'Unknown';
    items.push({ clusterName, ...(status ? { status } : {}), applied: true, health });
  }
  return items.sort((a, b) => (a.clusterName < b.clusterName ? -1 : a.clusterName > b.clusterName ? 1 : 0));
}

export function fullyAppliedCondition(binding: KubeObject, items: readonly AggregatedStatusItem[]): { type: 'FullyApplied'; status: 'True' | 'False'; reason: string; message: string } {
  const spec = obj(binding['spec']) ?? {};
  const expected = new Set<string>();
  for (const c of list(spec['clusters'])) if (typeof obj(c)?.['name'] === 'string') expected.add(obj(c)?.['name'] as string);
  for (const snapshot of list(spec['requiredBy'])) for (const c of list(obj(snapshot)?.['clusters'])) if (typeof obj(c)?.['name'] === 'string') expected.add(obj(c)?.['name'] as string);
  for (const task of list(spec['gracefulEvictionTasks'])) {
    const t = obj(task);
    if (t && t['purgeMode'] !== 'Directly' && typeof t['fromCluster'] === 'string') expected.add(t['fromCluster']);
  }
  const applied = new Set(items.filter((i) => i.applied).map((i) => i.clusterName));
  const all = expected.size > 0 && [...expected].every((c) => applied.has(c));
  return all
    ? { type: 'FullyApplied', status: 'True', reason: 'FullyAppliedSuccess', message: 'All works have been successfully applied' }
    : { type: 'FullyApplied', status: 'False', reason: 'FullyAppliedFailed', message: 'Failed to apply all works, see status.aggregatedStatus for details' };
}

/** observedGeneration: the template's generation once every member caught up, else the template's current one. */
function observedGeneration(template: KubeObject, items: readonly AggregatedStatusItem[]): number | undefined {
  const generation = template.metadata.generation ?? 0;
  const caughtUp = items.every((item) => {
    const s = item.status ?? {};
    return num(s['observedGeneration']) >= num(s['generation']) && num(s['generation']) > 0 && num(s['resourceTemplateGeneration']) >= generation;
  });
  const current = obj(template['status'])?.['observedGeneration'];
  return caughtUp ? generation : typeof current === 'number' ? current : undefined;
}

function summed(template: KubeObject, items: readonly AggregatedStatusItem[], fields: readonly string[]): Obj {
  const status: Obj = { ...(obj(template['status']) ?? {}) };
  for (const field of fields) {
    const total = items.reduce((sum, item) => sum + num(item.status?.[field]), 0);
    if (total > 0) status[field] = total;
    else delete status[field];
  }
  const generation = observedGeneration(template, items);
  if (generation !== undefined) status['observedGeneration'] = generation;
  return status;
}

function jobStatus(template: KubeObject, items: readonly AggregatedStatusItem[]): Obj {
  const status: Obj = { ...(obj(template['status']) ?? {}) };
  for (const field of ['active', 'succeeded', 'failed']) {
    const total = items.reduce((sum, item) => sum + num(item.status?.[field]), 0);
    if (total > 0) status[field] = total;
    else delete status[field];
  }
  const conditionOf = (item: AggregatedStatusItem, type: string) => list(item.status?.['conditions']).map(obj).find((c) => c?.['type'] === type && c['status'] === 'True');
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const failedIn = items.filter((i) => conditionOf(i, 'Failed')).map((i) => i.clusterName);
  const complete = items.length > 0 && items.every((i) => conditionOf(i, 'Complete'));
  const previous = list(status['conditions']).map(obj).filter((c): c is Obj => c !== undefined);
  const keep = (type: string) => previous.find((c) => c['type'] === type && c['status'] === 'True');
  if (failedIn.length > 0) {
    status['conditions'] = [keep('Failed') ?? { type: 'Failed', status: 'True', lastProbeTime: now, lastTransitionTime: now, reason: 'JobFailed', message: `Job executed failed in member cluster ${failedIn.join(', ')}` }];
  } else if (complete) {
    status['conditions'] = [keep('Complete') ?? { type: 'Complete', status: 'True', lastProbeTime: now, lastTransitionTime: now, reason: 'Completed', message: 'Job completed' }];
    const times = items.map((i) => i.status?.['completionTime']).filter((t): t is string => typeof t === 'string').sort();
    if (times.length > 0) status['completionTime'] = times[times.length - 1];
  }
  const starts = items.map((i) => i.status?.['startTime']).filter((t): t is string => typeof t === 'string').sort();
  if (starts.length > 0) status['startTime'] = starts[0];
  return status;
}

const AGGREGATORS: Readonly<Record<string, (template: KubeObject, items: readonly AggregatedStatusItem[]) => Obj>> = {
  'apps/v1/Deployment': (t, items) => summed(t, items, ['replicas', 'readyReplicas', 'updatedReplicas', 'availableReplicas', 'unavailableReplicas']),
  'apps/v1/ReplicaSet': (t, items) => summed(t, items, ['replicas', 'readyReplicas', 'availableReplicas']),
  'apps/v1/StatefulSet': (t, items) => summed(t, items, ['replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas']),
  'apps/v1/DaemonSet': (t, items) => summed(t, items, ['currentNumberScheduled', 'desiredNumberScheduled', 'numberAvailable', 'numberMisscheduled', 'numberReady', 'updatedNumberScheduled', 'numberUnavailable']),
  'batch/v1/Job': jobStatus,
};

export function aggregateTemplateStatus(template: KubeObject, items: readonly AggregatedStatusItem[]): Record<string, unknown> | undefined {
  const aggregator = AGGREGATORS[`${template.apiVersion ?? ''}/${template.kind ?? ''}`];
  return aggregator ? aggregator(template, items) : undefined;
}
