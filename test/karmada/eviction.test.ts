import t from 'tap';
import type { KubeObject } from '../../src/api/object.js';
import { assessEvictionTasks, evictionTime, gracefulEvict } from '../../src/karmada/eviction.js';

/**
 * Failover rules (karmada-api.md §4.6) as tables: when a NoExecute taint evicts, what an eviction
 * writes, and when a graceful eviction task ends.
 */
const NOW = Date.parse('2026-11-22T10:00:00Z');
const at = (secondsAgo: number) => new Date(NOW - secondsAgo * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
const notReady = (secondsAgo = 0) => ({ key: 'cluster.karmada.io/not-ready', effect: 'NoExecute', timeAdded: at(secondsAgo) });

t.test('evictionTime: untolerated now, tolerated for a while later, for ever never', async (t) => {
  const cases: [string, Parameters<typeof evictionTime>[0], Parameters<typeof evictionTime>[1], number | undefined][] = [
    ['no taints', [], [], undefined],
    ['a NoSchedule taint never evicts', [{ key: 'k', effect: 'NoSchedule' }], [], undefined],
    ['an untolerated NoExecute taint evicts now', [notReady()], [], NOW],
    ['a toleration for another key does not help', [notReady()], [{ key: 'other', operator: 'Exists', effect: 'NoExecute' }], NOW],
    ['tolerated without tolerationSeconds: never', [notReady()], [{ key: 'cluster.karmada.io/not-ready', operator: 'Exists', effect: 'NoExecute' }], undefined],
    ['tolerated for 30 s, added 10 s ago: in 20 s', [notReady(10)], [{ key: 'cluster.karmada.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }], NOW + 20_000],
    ['tolerated for 30 s, added 40 s ago: already due', [notReady(40)], [{ key: 'cluster.karmada.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }], NOW - 10_000],
    ['two matching tolerations: the smaller time wins', [notReady(0)], [{ operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }, { key: 'cluster.karmada.io/not-ready', operator: 'Exists', tolerationSeconds: 5 }], NOW + 5_000],
    ['an empty-key Exists toleration tolerates every NoExecute taint', [notReady(), { key: 'k', value: 'v', effect: 'NoExecute' }], [{ operator: 'Exists' }], undefined],
    ['one untolerated taint among tolerated ones evicts', [notReady(), { key: 'k', value: 'v', effect: 'NoExecute' }], [{ key: 'cluster.karmada.io/not-ready', operator: 'Exists' }], NOW],
  ];
  for (const [name, taints, tolerations, want] of cases) t.equal(evictionTime(taints, tolerations, NOW), want, name);
});

t.test('gracefulEvict: the cluster leaves spec.clusters and a task records it', async (t) => {
  const spec = { clusters: [{ name: 'member1', replicas: 1 }, { name: 'member2', replicas: 2 }] };
  t.same(gracefulEvict(spec, 'member2'), {
    clusters: [{ name: 'member1', replicas: 1 }],
    gracefulEvictionTasks: [{ fromCluster: 'member2', purgeMode: 'Gracefully', replicas: 2, reason: 'TaintUntolerated', producer: 'TaintManager' }],
  }, "Karmada's task, default purgeMode Gracefully");
  t.equal(gracefulEvict(spec, 'member3'), undefined, 'a cluster the binding is not on: nothing to do');
  t.same((gracefulEvict({ ...spec, failover: { cluster: { purgeMode: 'Directly' } } }, 'member1') as { gracefulEvictionTasks: unknown[] }).gracefulEvictionTasks, [{ fromCluster: 'member1', purgeMode: 'Directly', replicas: 1, reason: 'TaintUntolerated', producer: 'TaintManager' }], "the binding's failover purgeMode wins");
  const again = gracefulEvict({ clusters: [{ name: 'member2', replicas: 2 }], gracefulEvictionTasks: [{ fromCluster: 'member2', reason: 'TaintUntolerated', producer: 'TaintManager' }] }, 'member2') as { clusters: unknown[]; gracefulEvictionTasks: unknown[] };
  t.equal(again.gracefulEvictionTasks.length, 1, 'no second task for the same cluster');
  t.same(again.clusters, [], 'but the cluster still leaves');
  t.notOk('replicas' in ((gracefulEvict({ clusters: [{ name: 'm' }] }, 'm') as { gracefulEvictionTasks: Record<string, unknown>[] }).gracefulEvictionTasks[0] ?? {}), 'no replicas on a non-workload task');
});

t.test('assessEvictionTasks: stamping, timeouts, healthy new placement, suppressDeletion', async (t) => {
  const binding = (tasks: Record<string, unknown>[], status: Record<string, unknown> = {}, generation = 2): KubeObject => ({
    metadata: { name: 'b', generation },
    spec: { clusters: [{ name: 'member1', replicas: 4 }], gracefulEvictionTasks: tasks },
    status,
  });
  const healthy = { schedulerObservedGeneration: 2, aggregatedStatus: [{ clusterName: 'member1', health: 'Healthy', status: { replicas: 4, availableReplicas: 4 } }] };
  const stale = { schedulerObservedGeneration: 2, aggregatedStatus: [{ clusterName: 'member1', health: 'Healthy', status: { replicas: 2, availableReplicas: 2 } }] };
  const task = (extra: Record<string, unknown> = {}) => ({ fromCluster: 'member2', creationTimestamp: at(5), ...extra });

  const fresh = assessEvictionTasks(binding([{ fromCluster: 'member2' }]), NOW);
  t.equal(fresh.kept[0]?.creationTimestamp, at(0), 'a new task is stamped');
  t.equal(fresh.nextCheckAt, NOW + 600_000, 'and looked at again when the default 10 min pass');
  t.same(assessEvictionTasks(binding([task()], healthy), NOW).removed, ['member2'], 'scheduled and healthy with all its replicas: the task goes');
  t.same(assessEvictionTasks(binding([task()], stale), NOW).removed, [], 'healthy but reflecting the old replica count: the task stays');
  t.same(assessEvictionTasks(binding([task()], { ...healthy, schedulerObservedGeneration: 1 }), NOW).removed, [], 'not scheduled for the current generation: stays');
  t.same(assessEvictionTasks(binding([task()], { schedulerObservedGeneration: 2, aggregatedStatus: [{ clusterName: 'member1', health: 'Unhealthy' }] }), NOW).removed, [], 'an unhealthy new cluster: stays');
  t.same(assessEvictionTasks(binding([task({ gracePeriodSeconds: 3 })]), NOW).removed, ['member2'], 'gracePeriodSeconds passed: goes');
  t.same(assessEvictionTasks(binding([task({ creationTimestamp: at(601) })]), NOW).removed, ['member2'], 'the default timeout passed: goes');
  t.same(assessEvictionTasks(binding([task({ creationTimestamp: at(601) })]), NOW, 3_600_000).removed, [], 'a longer default (--graceful-eviction-timeout) keeps it');
  t.same(assessEvictionTasks(binding([task({ suppressDeletion: true, creationTimestamp: at(10_000) })], healthy), NOW).removed, [], 'suppressDeletion true keeps it for ever');
  t.same(assessEvictionTasks(binding([task({ suppressDeletion: false })]), NOW).removed, ['member2'], 'suppressDeletion false ends it at once');
});
