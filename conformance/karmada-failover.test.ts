import t from 'tap';
import type { Test } from 'tap';
import type { KubeObject } from '../src/api/object.js';
import { pollUntil, startFederation } from './federation-harness.js';
import type { Federation } from './federation-harness.js';

/**
 * Issue 7, must-show 3 (failover): real processes — `flotilla serve --enable-failover` with short
 * timings, `flotilla member --count 2`, two joins — and kubectl. A member that goes away for longer
 * than the cluster failure threshold (1 s here) plus the failover eviction timeout (3 s here) is
 * tainted `cluster.karmada.io/not-ready:NoExecute`; the taint manager evicts the bindings on it with a
 * graceful eviction task, the scheduler moves their replicas to the other member, and the task (and
 * with it the old Work) goes once the new placement is healthy. A shorter blip evicts nothing. With the
 * defaults (10 s status period, 30 s failure threshold, 5 min eviction timeout) the same happens about
 * 5.5 minutes after a member goes away.
 */
const MINOR = '1.31';
const FAILURE_THRESHOLD_MS = 1_000;
const EVICTION_TIMEOUT_MS = 5_000;
const started = Date.now();

const fed: Federation = await startFederation({
  members: [{ name: 'member1' }, { name: 'member2' }],
  serveArgs: ['--enable-failover', '--failover-eviction-timeout', `${EVICTION_TIMEOUT_MS}ms`, '--graceful-eviction-timeout', '60s', '--resource-eviction-rate', '20'],
});
t.teardown(async () => {
  await fed.stop();
  t.comment(`karmada-failover suite took ${Date.now() - started} ms`);
});

interface Condition { type: string; status: string; reason?: string }
interface Taint { key: string; effect: string }
interface Task { fromCluster: string; reason?: string; producer?: string; purgeMode?: string; replicas?: number; creationTimestamp?: string }
const specOf = (o: KubeObject | undefined): Record<string, unknown> => (o?.['spec'] ?? {}) as Record<string, unknown>;
const statusOf = (o: KubeObject | undefined): Record<string, unknown> => (o?.['status'] ?? {}) as Record<string, unknown>;
const conditionOf = (o: KubeObject | undefined, type: string): Condition | undefined => ((statusOf(o)['conditions'] ?? []) as Condition[]).find((c) => c.type === type);
const targets = (o: KubeObject | undefined): string => ((specOf(o)['clusters'] ?? []) as { name: string; replicas?: number }[]).map((c) => `${c.name}:${c.replicas ?? '-'}`).join(',');

async function getJson(member: string | undefined, args: readonly string[]): Promise<KubeObject | undefined> {
  const result = member ? await fed.memberKubectl(member, MINOR, ['get', ...args, '-o', 'json']) : await fed.kubectl(MINOR, ['get', ...args, '-o', 'json']);
  if (result.code !== 0) {
    if (/NotFound|not found/.test(result.stderr)) return undefined;
    throw new Error(`kubectl get ${args.join(' ')}: ${result.stderr}`);
  }
  return JSON.parse(result.stdout) as KubeObject;
}

async function eventually<T>(t: Test, what: string, check: () => Promise<T | undefined | false>, timeoutMs = 30_000, diag?: () => Promise<Record<string, unknown>>): Promise<T | undefined> {
  const before = Date.now();
  let lastError: unknown;
  const value = await pollUntil(check, timeoutMs, 150, (last) => (lastError = last));
  if (value !== undefined) {
    t.pass(`${what} (${Date.now() - before} ms)`);
    return value;
  }
  t.fail(`${what} (not within ${timeoutMs} ms)`, { ...(lastError !== undefined ? { lastError: String(lastError) } : {}), ...(diag ? await diag().catch((err: unknown) => ({ diagError: String(err) })) : {}), serveLog: fed.lastLogLines('serve'), memberLog: fed.lastLogLines('member') });
  return undefined;
}

/** In brief, for a failure: web in member1 and member1's Work of it. */
async function member1Web(): Promise<Record<string, unknown>> {
  const d = await getJson('member1', ['deploy', 'web', '-n', 'default']);
  const workName = d?.metadata.annotations?.['work.karmada.io/name'];
  const work = workName ? await getJson(undefined, ['works.work.karmada.io', workName, '-n', 'karmada-es-member1']) : undefined;
  const conditions = ((statusOf(work)['conditions'] ?? []) as { type: string; status: string; reason?: string; message?: string; observedGeneration?: number }[]).map((c) => `${c.type}=${c.status} ${c.reason ?? ''} g${c.observedGeneration ?? '?'} ${c.message ?? ''}`);
  return { member1: d ? { generation: d.metadata.generation, replicas: specOf(d)['replicas'], status: statusOf(d) } : 'not found', work: work ? { generation: work.metadata.generation, conditions } : 'not found' };
}

const binding = () => getJson(undefined, ['rb', 'web-deployment', '-n', 'default']);
const notReadyNoExecute = (cluster: KubeObject | undefined) => ((specOf(cluster)['taints'] ?? []) as Taint[]).some((x) => x.key === 'cluster.karmada.io/not-ready' && x.effect === 'NoExecute');

t.test('setup: web (4 replicas) split 2/2 over member1 and member2', async (t) => {
  const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 4, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } } };
  const policy = {
    apiVersion: 'policy.karmada.io/v1alpha1', kind: 'PropagationPolicy', metadata: { name: 'web', namespace: 'default' },
    spec: {
      resourceSelectors: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }],
      placement: { clusterAffinity: { clusterNames: ['member1', 'member2'] }, replicaScheduling: { replicaSchedulingType: 'Divided', replicaDivisionPreference: 'Weighted', weightPreference: { staticWeightList: [{ targetCluster: { clusterNames: ['member1'] }, weight: 1 }, { targetCluster: { clusterNames: ['member2'] }, weight: 1 }] } } },
    },
  };
  for (const object of [deployment, policy]) {
    const result = await fed.kubectl(MINOR, ['apply', '-f', '-'], { stdin: JSON.stringify(object) });
    t.equal(result.code, 0, `kubectl apply ${object.kind}`, { stderr: result.stderr });
  }
  for (const member of ['member1', 'member2']) {
    await eventually(t, `${member} runs 2 ready replicas`, async () => statusOf(await getJson(member, ['deploy', 'web', '-n', 'default']))['readyReplicas'] === 2);
  }
  await eventually(t, 'the control plane shows 4/4', async () => statusOf(await getJson(undefined, ['deploy', 'web', '-n', 'default']))['readyReplicas'] === 4);
});

t.test('a short blip (shorter than the failure threshold plus the eviction timeout) evicts nothing', async (t) => {
  const before = await binding();
  t.equal((await fed.admin('POST', '/members/member2/pause')).code, 200, 'member2 paused');
  // Down long enough to turn Ready=False, back well before the eviction timeout runs out.
  await new Promise((r) => setTimeout(r, FAILURE_THRESHOLD_MS + 1_500));
  t.equal(conditionOf(await getJson(undefined, ['cluster', 'member2']), 'Ready')?.status, 'False', 'member2 turned Ready=False meanwhile');
  t.equal((await fed.admin('POST', '/members/member2/resume')).code, 200, 'member2 resumed');
  await eventually(t, 'member2 Ready again', async () => conditionOf(await getJson(undefined, ['cluster', 'member2']), 'Ready')?.status === 'True');
  await new Promise((r) => setTimeout(r, EVICTION_TIMEOUT_MS));
  const after = await binding();
  t.equal(targets(after), targets(before), 'still member1:2, member2:2');
  t.same(specOf(after)['gracefulEvictionTasks'], undefined, 'no eviction task');
  t.notOk(notReadyNoExecute(await getJson(undefined, ['cluster', 'member2'])), 'no NoExecute taint');
});

t.test('member2 goes away: tainted NoExecute, evicted gracefully, its replicas move to member1', async (t) => {
  const pausedAt = Date.now();
  t.equal((await fed.admin('POST', '/members/member2/pause')).code, 200, 'member2 paused');
  await eventually(t, 'member2 Ready=False', async () => conditionOf(await getJson(undefined, ['cluster', 'member2']), 'Ready')?.status === 'False');
  const tainted = await eventually(t, 'member2 tainted cluster.karmada.io/not-ready:NoExecute', async () => notReadyNoExecute(await getJson(undefined, ['cluster', 'member2'])));
  // Ready's lastTransitionTime has whole seconds, so the eviction timeout may start up to 1 s early.
  t.ok(tainted && Date.now() - pausedAt >= FAILURE_THRESHOLD_MS + EVICTION_TIMEOUT_MS - 1_000, `not before the failure threshold plus the eviction timeout (less the 1 s timestamp granularity): ${Date.now() - pausedAt} ms`);
  const evicted = await eventually(t, 'the binding gets a graceful eviction task for member2', async () => {
    const b = await binding();
    return ((specOf(b)['gracefulEvictionTasks'] ?? []) as Task[]).some((x) => x.fromCluster === 'member2') ? b : undefined;
  });
  const task = ((specOf(evicted)['gracefulEvictionTasks'] ?? []) as Task[]).find((x) => x.fromCluster === 'member2');
  t.match(task, { fromCluster: 'member2', reason: 'TaintUntolerated', producer: 'TaintManager', purgeMode: 'Gracefully', replicas: 2 }, "Karmada's task");
  t.notOk(targets(evicted).includes('member2'), 'member2 left spec.clusters');
  await eventually(t, 'the scheduler moves its replicas: member1:4', async () => targets(await binding()) === 'member1:4');
  const during = await binding();
  t.ok(((specOf(during)['gracefulEvictionTasks'] ?? []) as Task[]).length === 1 || statusOf(await getJson('member1', ['deploy', 'web', '-n', 'default']))['readyReplicas'] === 4, 'the task stays while member1 is not yet running all 4');
  await eventually(t, 'member1 runs all 4 replicas', async () => statusOf(await getJson('member1', ['deploy', 'web', '-n', 'default']))['readyReplicas'] === 4, 30_000, member1Web);
  t.comment(`replicas moved ${Date.now() - pausedAt} ms after member2 went away`);
  await eventually(t, 'the task goes once member1 is healthy (before the 60 s grace period)', async () => {
    const b = await binding();
    return ((specOf(b)['gracefulEvictionTasks'] ?? []) as Task[]).length === 0 ? b : undefined;
  });
  await eventually(t, "member2's Work is being deleted (waiting for member2 to return)", async () => {
    const works = await fed.kubectl(MINOR, ['get', 'works.work.karmada.io', '-n', 'karmada-es-member2', '-o', 'json']);
    const items = (JSON.parse(works.stdout) as { items: KubeObject[] }).items.filter((w) => w.metadata.name?.startsWith('web-'));
    return items.length === 0 || items.every((w) => w.metadata.deletionTimestamp) ? true : undefined;
  });

  t.equal((await fed.admin('POST', '/members/member2/resume')).code, 200, 'member2 resumed');
  await eventually(t, 'member2 Ready again and the NoExecute taint removed', async () => {
    const cluster = await getJson(undefined, ['cluster', 'member2']);
    return conditionOf(cluster, 'Ready')?.status === 'True' && !notReadyNoExecute(cluster);
  });
  await eventually(t, "the evicted replicas are removed from member2 once it is back", async () => (await getJson('member2', ['deploy', 'web', '-n', 'default'])) === undefined, 60_000);
  await eventually(t, 'the control plane shows 4/4 from member1 alone', async () => {
    const d = await getJson(undefined, ['deploy', 'web', '-n', 'default']);
    return statusOf(d)['readyReplicas'] === 4 && statusOf(d)['replicas'] === 4;
  }, 30_000, async () => ({ template: statusOf(await getJson(undefined, ['deploy', 'web', '-n', 'default'])), binding: statusOf(await binding())['aggregatedStatus'], ...(await member1Web()) }));
});
