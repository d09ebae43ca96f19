import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Test } from 'tap';
import { parse as parseYaml } from 'yaml';
import type { KubeObject } from '../src/api/object.js';
import { pollUntil, runFlotilla, sleep, startFederation } from './federation-harness.js';
import type { Federation } from './federation-harness.js';

/**
 * Issue 6, must-show 2: against a running federation — real processes only: `flotilla serve`, one
 * `flotilla member --count 3` and `flotilla join` for each member — every policy manifest among
 * Karmada's samples (conformance/fixtures/karmada-samples, applied unchanged with the real kubectl
 * 1.31) yields the binding, the claims and the spec.clusters its INDEX.md expects.
 *
 * Several samples select the same Deployment `default/nginx`, and several share a policy name
 * (`nginx-propagation` ×3, `example-policy` ×5), so the cases run one after another, each deleting
 * its policy and template and waiting for the binding to be gone before the next starts.
 *
 * Not here: the OverridePolicies / ClusterOverridePolicy (issue 7: they change Works, not bindings),
 * artifacts/example/cr_cluster.yaml (a Cluster, not a policy) and artifacts/example/binding.yaml (a
 * hand-written binding the scheduler ignores; both covered in karmada-api.test.ts).
 *
 * The members are joined so that the samples' cluster selectors have something to tell apart:
 *   member1: provider huaweicloud, no region          location=us
 *   member2: no provider, region cn-north-1           location=cn
 *   member3: provider huaweicloud, region eu-west-1   location=eu
 * (propagation_fieldsselector.yaml: clusterNames [member1, member2] AND provider In [huaweicloud]
 * AND region NotIn [cn-south-1] → member1 only: member2 has no provider, member3 is not named.)
 */
const MINOR = '1.31';
const SAMPLES = fileURLToPath(new URL('./fixtures/karmada-samples/', import.meta.url));
const sample = (file: string): string => `${SAMPLES}${file}`;
const SCHEDULE_TIMEOUT_MS = 15_000;
const started = Date.now();

const PP_ID = 'propagationpolicy.karmada.io/permanent-id';
const PP_NAMESPACE = 'propagationpolicy.karmada.io/namespace';
const PP_NAME = 'propagationpolicy.karmada.io/name';
const CPP_ID = 'clusterpropagationpolicy.karmada.io/permanent-id';
const CPP_NAME = 'clusterpropagationpolicy.karmada.io/name';
const APPLIED_PLACEMENT = 'policy.karmada.io/applied-placement';
const SUCCESS_MESSAGE = 'Binding has been scheduled successfully.';
const NOT_READY_TAINT = 'cluster.karmada.io/not-ready';

const fed: Federation = await startFederation({
  members: [
    { name: 'member1', provider: 'huaweicloud', labels: { location: 'us' } },
    { name: 'member2', region: 'cn-north-1', labels: { location: 'cn' } },
    { name: 'member3', provider: 'huaweicloud', region: 'eu-west-1', labels: { location: 'eu' } },
  ],
  // Scheduling only: Works are not applied (the guestbook case controls when member1 serves the CRD).
  serveArgs: ['--controllers', '*,-execution,-work-status,-binding-status,-namespace-sync'],
});
t.teardown(async () => {
  await fed.stop();
  t.comment(`karmada-scheduling suite took ${Date.now() - started} ms`);
});
t.comment(`federation started and joined in ${Date.now() - started} ms`);

// ---- helpers ----

interface Condition { type: string; status: string; reason?: string; message?: string }
interface Target { name: string; replicas?: number }
interface Taint { key: string; value?: string; effect: string }
type BindingKind = 'rb' | 'crb';

const specOf = (o: KubeObject | undefined): Record<string, unknown> => (o?.['spec'] ?? {}) as Record<string, unknown>;
const statusOf = (o: KubeObject | undefined): Record<string, unknown> => (o?.['status'] ?? {}) as Record<string, unknown>;
const conditionOf = (o: KubeObject | undefined, type: string): Condition | undefined => ((statusOf(o)['conditions'] ?? []) as Condition[]).find((c) => c.type === type);
const clustersOf = (o: KubeObject | undefined): Target[] | undefined => specOf(o)['clusters'] as Target[] | undefined;
const taintsOf = (o: KubeObject | undefined): Taint[] => (specOf(o)['taints'] ?? []) as Taint[];

async function kubectlOk(t: Test, args: readonly string[], stdin?: string): Promise<string> {
  const result = await fed.kubectl(MINOR, args, stdin !== undefined ? { stdin } : {});
  t.equal(result.code, 0, `kubectl ${args.join(' ').replaceAll(SAMPLES, '')}`, result.code !== 0 ? { stderr: result.stderr } : {});
  return result.stdout;
}

/** `kubectl get … -o json`; undefined when NotFound, throws on any other failure. */
async function getJson(args: readonly string[]): Promise<KubeObject | undefined> {
  const result = await fed.kubectl(MINOR, ['get', ...args, '-o', 'json']);
  if (result.code !== 0) {
    if (/NotFound|not found/.test(result.stderr)) return undefined;
    throw new Error(`kubectl get ${args.join(' ')}: ${result.stderr}`);
  }
  return JSON.parse(result.stdout) as KubeObject;
}

const getBinding = (kind: BindingKind, name: string): Promise<KubeObject | undefined> => getJson(kind === 'rb' ? ['rb', name, '-n', 'default'] : ['crb', name]);
const mustGet = async (args: readonly string[]): Promise<KubeObject> => {
  const object = await getJson(args);
  if (!object) throw new Error(`kubectl get ${args.join(' ')}: not found`);
  return object;
};

/** Polls every 150 ms; passes with the value or fails with the last error and `diag()`. */
async function eventually<T>(t: Test, what: string, check: () => Promise<T | undefined | false>, timeoutMs: number, diag?: () => Promise<Record<string, unknown>>): Promise<T | undefined> {
  const before = Date.now();
  let lastError: unknown;
  const value = await pollUntil(check, timeoutMs, 150, (last) => (lastError = last));
  if (value !== undefined) {
    t.pass(`${what} (${Date.now() - before} ms)`);
    return value;
  }
  t.fail(`${what} (not within ${timeoutMs} ms)`, { ...(lastError !== undefined ? { lastError: String(lastError) } : {}), ...(diag ? await diag().catch((err: unknown) => ({ diagError: String(err) })) : {}) });
  return undefined;
}

/**
 * The binding once the scheduler has decided on its current generation (a Scheduled condition and
 * schedulerObservedGeneration = generation), or undefined (a failure, with the binding as it was).
 */
async function decided(t: Test, kind: BindingKind, name: string, want?: (b: KubeObject) => boolean): Promise<KubeObject | undefined> {
  let last: KubeObject | undefined;
  return eventually(t, `${kind} ${name} decided by the scheduler`, async () => {
    last = await getBinding(kind, name);
    if (!last || !conditionOf(last, 'Scheduled') || statusOf(last)['schedulerObservedGeneration'] !== last.metadata.generation) return undefined;
    return !want || want(last) ? last : undefined;
  }, SCHEDULE_TIMEOUT_MS, async () => ({ binding: last ?? 'not found' }));
}

/**
 * The claim of `policy` on `object` (a template or its binding): the policy's permanent-id label and
 * the annotations naming it — and none of the other kind's.
 */
function checkClaim(t: Test, what: string, object: KubeObject, policy: KubeObject): void {
  const labels = object.metadata.labels ?? {};
  const annotations = object.metadata.annotations ?? {};
  if (policy.kind === 'PropagationPolicy') {
    t.match(policy.metadata.labels?.[PP_ID], /^[0-9a-f-]{36}$/, `${what}: the policy has its permanent-id`);
    t.equal(labels[PP_ID], policy.metadata.labels?.[PP_ID], `${what}: label ${PP_ID} is the policy's`);
    t.equal(annotations[PP_NAMESPACE], policy.metadata.namespace, `${what}: annotation ${PP_NAMESPACE}`);
    t.equal(annotations[PP_NAME], policy.metadata.name, `${what}: annotation ${PP_NAME}`);
    t.equal(labels[CPP_ID], undefined, `${what}: no ClusterPropagationPolicy claim`);
  } else {
    t.match(policy.metadata.labels?.[CPP_ID], /^[0-9a-f-]{36}$/, `${what}: the policy has its permanent-id`);
    t.equal(labels[CPP_ID], policy.metadata.labels?.[CPP_ID], `${what}: label ${CPP_ID} is the policy's`);
    t.equal(annotations[CPP_NAME], policy.metadata.name, `${what}: annotation ${CPP_NAME}`);
    t.equal(labels[PP_ID], undefined, `${what}: no PropagationPolicy claim`);
    t.equal(annotations[PP_NAME], undefined, `${what}: no ${PP_NAME}`);
  }
}

interface Expected {
  readonly kind: BindingKind;
  readonly name: string;
  /** The template as `kubectl get` args, e.g. ['deployment', 'nginx', '-n', 'default']. */
  readonly template: readonly string[];
  /** The policy as `kubectl get` args. */
  readonly policy: readonly string[];
  readonly replicas?: number;
  readonly clusters: Target[];
}

/** Everything a scheduled binding must show: identity, ownership, claims, spec.clusters, Scheduled=True. */
async function checkScheduled(t: Test, expected: Expected): Promise<KubeObject | undefined> {
  const rb = await decided(t, expected.kind, expected.name);
  if (!rb) return undefined;
  const template = await mustGet(expected.template);
  const policy = await mustGet(expected.policy);
  const bindingKind = expected.kind === 'rb' ? 'ResourceBinding' : 'ClusterResourceBinding';
  t.equal(rb.apiVersion, 'work.karmada.io/v1alpha2', 'work.karmada.io/v1alpha2');
  t.equal(rb.kind, bindingKind, `a ${bindingKind}`);
  t.equal(rb.metadata.name, expected.name, `named ${expected.name}`);
  t.equal(rb.metadata.namespace, expected.kind === 'rb' ? 'default' : undefined, expected.kind === 'rb' ? 'in the template\'s namespace' : 'cluster-scoped');
  t.match(rb.metadata.ownerReferences, [{ apiVersion: template.apiVersion, kind: template.kind, name: template.metadata.name, uid: template.metadata.uid, controller: true }], 'owned by its template');
  // (resourceVersion: the template's at the last spec change the detector saw; status writes move the template's on.)
  t.same(specOf(rb)['resource'], {
    apiVersion: template.apiVersion, kind: template.kind,
    ...(template.metadata.namespace ? { namespace: template.metadata.namespace } : {}),
    name: template.metadata.name, uid: template.metadata.uid, resourceVersion: (specOf(rb)['resource'] as { resourceVersion?: unknown } | undefined)?.resourceVersion,
  }, 'spec.resource points at the template');
  t.match((specOf(rb)['resource'] as { resourceVersion?: unknown } | undefined)?.resourceVersion, /^\d+$/, 'spec.resource.resourceVersion set');
  t.equal(specOf(rb)['replicas'], expected.replicas, expected.replicas !== undefined ? `spec.replicas ${expected.replicas}` : 'no spec.replicas (not a workload)');
  t.same(specOf(rb)['placement'], specOf(policy)['placement'], 'spec.placement is the policy\'s');
  checkClaim(t, 'template', template, policy);
  checkClaim(t, 'binding', rb, policy);
  t.same(clustersOf(rb), expected.clusters, `spec.clusters ${expected.clusters.map((c) => `${c.name}:${c.replicas ?? '-'}`).join(', ')}`, { binding: rb });
  t.match(conditionOf(rb, 'Scheduled'), { status: 'True', reason: 'Success', message: SUCCESS_MESSAGE }, 'Scheduled=True Success', { binding: rb });
  t.ok(statusOf(rb)['lastScheduledTime'], 'status.lastScheduledTime set');
  t.same(JSON.parse(rb.metadata.annotations?.[APPLIED_PLACEMENT] ?? 'null'), specOf(rb)['placement'], `${APPLIED_PLACEMENT} records the placement`);
  return rb;
}

/** Deletes what a case created (waiting for finalizers) and waits until its binding is gone. */
async function cleanUp(t: Test, deleteArgs: readonly (readonly string[])[], binding: { kind: BindingKind; name: string }): Promise<void> {
  for (const args of deleteArgs) await kubectlOk(t, ['delete', ...args, '--ignore-not-found', '--wait=true', '--timeout=30s']);
  await eventually(t, `${binding.kind} ${binding.name} gone`, async () => (await getBinding(binding.kind, binding.name)) === undefined, 20_000);
}

// ---- the federation ----

t.test('three members joined and Ready, with the properties the selectors look at', async (t) => {
  const clusters = await eventually(t, 'member1..3 Ready=True, untainted, serving apps/v1 Deployment', async () => {
    const list = (await mustGet(['clusters'])) as KubeObject & { items: KubeObject[] };
    const ok = list.items.length === 3 && list.items.every((c) => conditionOf(c, 'Ready')?.status === 'True' && taintsOf(c).length === 0
      && ((statusOf(c)['apiEnablements'] ?? []) as { groupVersion: string; resources?: { kind: string }[] }[]).some((e) => e.groupVersion === 'apps/v1' && (e.resources ?? []).some((r) => r.kind === 'Deployment')));
    return ok ? list.items : undefined;
  }, 30_000);
  const byName = new Map((clusters ?? []).map((c) => [c.metadata.name, c]));
  t.match(specOf(byName.get('member1')), { provider: 'huaweicloud' });
  t.equal(specOf(byName.get('member1'))['region'], undefined, 'member1 has no region');
  t.equal(specOf(byName.get('member2'))['provider'], undefined, 'member2 has no provider');
  t.match(specOf(byName.get('member2')), { region: 'cn-north-1' });
  t.match(specOf(byName.get('member3')), { provider: 'huaweicloud', region: 'eu-west-1' });
  for (const [name, location] of [['member1', 'us'], ['member2', 'cn'], ['member3', 'eu']] as const) t.equal(byName.get(name)?.metadata.labels?.['location'], location, `${name} location=${location}`);
});

// ---- the samples ----

t.test('samples/nginx/propagationpolicy.yaml: static weights 1:1 over member1, member2 → RB nginx-deployment member1:1, member2:1', async (t) => {
  const caseStart = Date.now();
  await kubectlOk(t, ['apply', '-f', sample('samples/nginx/deployment.yaml')]);
  await kubectlOk(t, ['apply', '-f', sample('samples/nginx/propagationpolicy.yaml')]);
  const rb = await checkScheduled(t, {
    kind: 'rb', name: 'nginx-deployment', template: ['deployment', 'nginx', '-n', 'default'], policy: ['pp', 'nginx-propagation', '-n', 'default'],
    replicas: 2, clusters: [{ name: 'member1', replicas: 1 }, { name: 'member2', replicas: 1 }],
  });

  await t.test('flotilla explain placement -n default deployment/nginx', async (t) => {
    const base = ['explain', 'placement', '-n', 'default', 'deployment/nginx', '--kubeconfig', fed.controlPlaneKubeconfig];
    const [table, json] = await Promise.all([runFlotilla(base, 30_000), runFlotilla([...base, '-o', 'json'], 30_000)]);
    t.equal(table.code, 0, 'table: exit 0', { stderr: table.stderr });
    t.match(table.stdout, /^Template:\s+apps\/v1 Deployment default\/nginx$/m);
    t.match(table.stdout, /^Policy:\s+PropagationPolicy default\/nginx-propagation$/m, 'names the policy');
    t.match(table.stdout, /^Binding:\s+ResourceBinding default\/nginx-deployment, 2 replicas$/m, 'names the (existing) binding');
    t.match(table.stdout, /^Result:\s+Scheduled=True Success: Binding has been scheduled successfully\.$/m, 'Scheduled=True Success');
    t.match(table.stdout, /^Clusters:\s+member1:1, member2:1$/m);
    t.match(table.stdout, /^CLUSTER\s+DECISION\s+REPLICAS\s+SCORE\s+AVAILABLE\s+WHY$/m, 'the per-cluster table');
    t.match(table.stdout, /^member1\s+selected\s+1\s/m, 'member1 row: selected, 1 replica');
    t.match(table.stdout, /^member2\s+selected\s+1\s/m, 'member2 row: selected, 1 replica');
    t.match(table.stdout, /^member3\s+filtered \(ClusterAffinity\)\s+-\s.*did not match the placement cluster affinity constraint$/m, 'member3 row: filtered by ClusterAffinity');
    t.equal(table.stdout.split('\n').filter((l) => /^member\d/.test(l)).length, 3, 'one row per cluster');

    t.equal(json.code, 0, 'json: exit 0', { stderr: json.stderr });
    const review = JSON.parse(json.stdout) as KubeObject;
    t.match(review, { apiVersion: 'scheduling.flotilla.io/v1alpha1', kind: 'PlacementReview' });
    const status = statusOf(review);
    t.match(status, {
      policy: { kind: 'PropagationPolicy', namespace: 'default', name: 'nginx-propagation', selectsTemplate: true },
      binding: { kind: 'ResourceBinding', namespace: 'default', name: 'nginx-deployment', exists: true, replicas: 2 },
      scheduled: true,
      condition: { status: 'True', reason: 'Success' },
    });
    t.same(status['clusters'], clustersOf(rb), 'status.clusters equals the binding\'s spec.clusters', { review: status });
    t.match(status['decisions'], [
      { cluster: 'member1', selected: true, replicas: 1 },
      { cluster: 'member2', selected: true, replicas: 1 },
      { cluster: 'member3', selected: false, filteredBy: { plugin: 'ClusterAffinity' } },
    ], 'decisions: one per cluster');
  });

  await cleanUp(t, [['-f', sample('samples/nginx/propagationpolicy.yaml'), '-f', sample('samples/nginx/deployment.yaml')]], { kind: 'rb', name: 'nginx-deployment' });
  t.comment(`case took ${Date.now() - caseStart} ms`);
});

t.test('artifacts/example/propagationpolicy_simple.yaml: no replicaScheduling → Duplicated, member1:2, member2:2', async (t) => {
  const caseStart = Date.now();
  // The policy selects `deployment-1`, which no sample defines: it is the nginx sample with that name
  // (the policy is applied unchanged; the template is the only thing made up).
  const deployment = parseYaml(await readFile(sample('samples/nginx/deployment.yaml'), 'utf8')) as KubeObject;
  deployment.metadata.name = 'deployment-1';
  await kubectlOk(t, ['apply', '-n', 'default', '-f', '-'], JSON.stringify(deployment));
  await kubectlOk(t, ['apply', '-f', sample('artifacts/example/propagationpolicy_simple.yaml')]);
  await checkScheduled(t, {
    kind: 'rb', name: 'deployment-1-deployment', template: ['deployment', 'deployment-1', '-n', 'default'], policy: ['pp', 'example-policy', '-n', 'default'],
    replicas: 2, clusters: [{ name: 'member1', replicas: 2 }, { name: 'member2', replicas: 2 }],
  });
  await cleanUp(t, [['-f', sample('artifacts/example/propagationpolicy_simple.yaml')], ['deployment', 'deployment-1', '-n', 'default']], { kind: 'rb', name: 'deployment-1-deployment' });
  t.comment(`case took ${Date.now() - caseStart} ms`);
});

t.test('artifacts/example/propagation_fieldsselector.yaml: clusterNames AND provider In [huaweicloud] AND region NotIn [cn-south-1]', async (t) => {
  const caseStart = Date.now();
  await kubectlOk(t, ['apply', '-f', sample('samples/nginx/deployment.yaml')]);
  await kubectlOk(t, ['apply', '-f', sample('artifacts/example/propagation_fieldsselector.yaml')]);
  // member1: huaweicloud without a region (NotIn holds); member2: no provider (In never holds);
  // member3: matches the fields but is not in clusterNames.
  await checkScheduled(t, {
    kind: 'rb', name: 'nginx-deployment', template: ['deployment', 'nginx', '-n', 'default'], policy: ['pp', 'nginx-propagation', '-n', 'default'],
    replicas: 2, clusters: [{ name: 'member1', replicas: 2 }],
  });

  // member2 becomes huaweicloud in cn-south-1: provider matches now, region NotIn does not.
  await kubectlOk(t, ['patch', 'cluster', 'member2', '--type', 'merge', '-p', JSON.stringify({ spec: { provider: 'huaweicloud', region: 'cn-south-1' } })]);
  await sleep(1_500);
  const still = await getBinding('rb', 'nginx-deployment');
  t.same(clustersOf(still), [{ name: 'member1', replicas: 2 }], 'member2 in cn-south-1: still member1 only', { binding: still });
  // …and in cn-north-1: both match; a Duplicated binding follows the clusters.
  await kubectlOk(t, ['patch', 'cluster', 'member2', '--type', 'merge', '-p', JSON.stringify({ spec: { region: 'cn-north-1' } })]);
  await decided(t, 'rb', 'nginx-deployment', (b) => JSON.stringify(clustersOf(b)) === JSON.stringify([{ name: 'member1', replicas: 2 }, { name: 'member2', replicas: 2 }]));
  // Back to the joined properties (no provider).
  await kubectlOk(t, ['patch', 'cluster', 'member2', '--type', 'json', '-p', JSON.stringify([{ op: 'remove', path: '/spec/provider' }])]);

  await cleanUp(t, [['-f', sample('artifacts/example/propagation_fieldsselector.yaml'), '-f', sample('samples/nginx/deployment.yaml')]], { kind: 'rb', name: 'nginx-deployment' });
  t.comment(`case took ${Date.now() - caseStart} ms`);
});

t.test('artifacts/example/propagationpolicy_taintToleration.yaml: {effect: NoSchedule} tolerates not-ready, not k=v:NoSchedule', async (t) => {
  const caseStart = Date.now();
  // member1 unreachable → Ready=False → tainted cluster.karmada.io/not-ready:NoSchedule (no value):
  // the empty-key Equal toleration matches it. member2 gets k=v:NoSchedule: the value differs.
  const paused = await fed.admin('POST', '/members/member1/pause');
  t.equal(paused.code, 200, 'member1 paused');
  t.teardown(() => fed.admin('POST', '/members/member1/resume').then(() => undefined));
  await eventually(t, 'member1 tainted not-ready:NoSchedule', async () => taintsOf(await mustGet(['cluster', 'member1'])).some((x) => x.key === NOT_READY_TAINT && x.effect === 'NoSchedule' && !x.value), 15_000);
  await kubectlOk(t, ['patch', 'cluster', 'member2', '--type', 'merge', '-p', JSON.stringify({ spec: { taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] } })]);
  t.match(taintsOf(await mustGet(['cluster', 'member2'])), [{ key: 'k', value: 'v', effect: 'NoSchedule' }], 'member2 tainted k=v:NoSchedule');

  await kubectlOk(t, ['apply', '-f', sample('samples/nginx/deployment.yaml')]);
  await kubectlOk(t, ['apply', '-f', sample('artifacts/example/propagationpolicy_taintToleration.yaml')]);
  await checkScheduled(t, {
    kind: 'rb', name: 'nginx-deployment', template: ['deployment', 'nginx', '-n', 'default'], policy: ['pp', 'nginx-propagation', '-n', 'default'],
    replicas: 2, clusters: [{ name: 'member1', replicas: 2 }],
  });

  // member2's taint removed: the (Duplicated) binding takes member2 too — the taint was the only obstacle.
  await kubectlOk(t, ['patch', 'cluster', 'member2', '--type', 'json', '-p', JSON.stringify([{ op: 'remove', path: '/spec/taints' }])]);
  await decided(t, 'rb', 'nginx-deployment', (b) => JSON.stringify(clustersOf(b)) === JSON.stringify([{ name: 'member1', replicas: 2 }, { name: 'member2', replicas: 2 }]));
  t.equal((await fed.admin('POST', '/members/member1/resume')).code, 200, 'member1 resumed');
  await eventually(t, 'member1 Ready again and untainted', async () => {
    const c = await mustGet(['cluster', 'member1']);
    return conditionOf(c, 'Ready')?.status === 'True' && taintsOf(c).length === 0;
  }, 15_000);

  await cleanUp(t, [['-f', sample('artifacts/example/propagationpolicy_taintToleration.yaml'), '-f', sample('samples/nginx/deployment.yaml')]], { kind: 'rb', name: 'nginx-deployment' });
  t.comment(`case took ${Date.now() - caseStart} ms`);
});

t.test('artifacts/example/clusterpropagationpolicy_simple.yaml: CPP on a namespaced Deployment → namespaced RB with the CPP claim, member1', async (t) => {
  const caseStart = Date.now();
  await kubectlOk(t, ['apply', '-f', sample('samples/nginx/deployment.yaml')]);
  await kubectlOk(t, ['apply', '-f', sample('artifacts/example/clusterpropagationpolicy_simple.yaml')]);
  await checkScheduled(t, {
    kind: 'rb', name: 'nginx-deployment', template: ['deployment', 'nginx', '-n', 'default'], policy: ['cpp', 'example-policy'],
    replicas: 2, clusters: [{ name: 'member1', replicas: 2 }],
  });
  t.equal(await getBinding('crb', 'nginx-deployment'), undefined, 'no ClusterResourceBinding for a namespaced template');
  await cleanUp(t, [['-f', sample('artifacts/example/clusterpropagationpolicy_simple.yaml'), '-f', sample('samples/nginx/deployment.yaml')]], { kind: 'rb', name: 'nginx-deployment' });
  t.comment(`case took ${Date.now() - caseStart} ms`);
});

t.test('artifacts/example/policy_with_labelSelector.yaml: schedulerName default → RB created, never scheduled', async (t) => {
  const caseStart = Date.now();
  await kubectlOk(t, ['apply', '-f', sample('samples/nginx/deployment.yaml')]);
  await kubectlOk(t, ['apply', '-f', sample('artifacts/example/policy_with_labelSelector.yaml')]);
  // The selector has a name and a labelSelector (a: b, which nginx does not carry): the name wins.
  const created = await eventually(t, 'rb nginx-deployment created', () => getBinding('rb', 'nginx-deployment'), SCHEDULE_TIMEOUT_MS);
  if (created) {
    checkClaim(t, 'binding', created, await mustGet(['pp', 'example-policy', '-n', 'default']));
    checkClaim(t, 'template', await mustGet(['deployment', 'nginx', '-n', 'default']), await mustGet(['pp', 'example-policy', '-n', 'default']));
    t.equal(specOf(created)['schedulerName'], 'default', 'spec.schedulerName default (not default-scheduler)');
    t.match(specOf(created)['placement'], { clusterAffinity: { clusterNames: ['cluster1', 'cluster2', 'cluster3'] } });
  }
  // The scheduler decides other bindings within a few hundred ms (see the cases above); give it 3 s.
  await sleep(3_000);
  const later = await getBinding('rb', 'nginx-deployment');
  t.equal(conditionOf(later, 'Scheduled'), undefined, 'no Scheduled condition', { binding: later });
  t.equal(clustersOf(later), undefined, 'no spec.clusters', { binding: later });
  t.equal(later?.metadata.annotations?.[APPLIED_PLACEMENT], undefined, 'no applied placement');
  await cleanUp(t, [['-f', sample('artifacts/example/policy_with_labelSelector.yaml'), '-f', sample('samples/nginx/deployment.yaml')]], { kind: 'rb', name: 'nginx-deployment' });
  t.comment(`case took ${Date.now() - caseStart} ms`);
});

t.test('samples/guestbook/guestbooks-clusterpropagationpolicy.yaml: the CRD → CRB guestbooks.webapp.my.domain-customresourcedefinition, member1', async (t) => {
  const caseStart = Date.now();
  await kubectlOk(t, ['apply', '-f', sample('samples/guestbook/guestbooks-crd.yaml')]);
  await kubectlOk(t, ['wait', '--for=condition=Established', '-f', sample('samples/guestbook/guestbooks-crd.yaml'), '--timeout=30s']);
  await kubectlOk(t, ['apply', '-f', sample('samples/guestbook/guestbooks-clusterpropagationpolicy.yaml')]);
  await checkScheduled(t, {
    kind: 'crb', name: 'guestbooks.webapp.my.domain-customresourcedefinition', template: ['crd', 'guestbooks.webapp.my.domain'], policy: ['cpp', 'example-policy'],
    clusters: [{ name: 'member1' }],
  });
  // The CRD and its CPP stay: the Guestbook below needs the CRD served by the control plane.
  t.comment(`case took ${Date.now() - caseStart} ms`);
});

t.test('samples/guestbook/guestbooks-propagationpolicy.yaml: RB guestbook-sample-guestbook → member1 once member1 serves Guestbook', async (t) => {
  const caseStart = Date.now();
  // The CRD was established a moment ago; the Guestbook kind may take a moment to be served.
  await eventually(t, 'kubectl apply -f samples/guestbook/guestbook.yaml', async () => (await fed.kubectl(MINOR, ['apply', '-f', sample('samples/guestbook/guestbook.yaml')])).code === 0, 10_000);
  await kubectlOk(t, ['apply', '-f', sample('samples/guestbook/guestbooks-propagationpolicy.yaml')]);

  // Nothing propagates the CRD to member1 yet (no execution controller), so member1 does not serve Guestbook.
  const waiting = await decided(t, 'rb', 'guestbook-sample-guestbook');
  t.match(conditionOf(waiting, 'Scheduled'), { status: 'False', reason: 'NoClusterFit', message: /^0\/3 clusters are available: .*did not have the API resource/ }, 'Scheduled=False NoClusterFit: no cluster has the API', { binding: waiting });
  t.equal(clustersOf(waiting), undefined, 'no spec.clusters yet');
  t.comment(`Scheduled: ${JSON.stringify(conditionOf(waiting, 'Scheduled'))}`);
  const enablementsBefore = (statusOf(await mustGet(['cluster', 'member1']))['apiEnablements'] ?? []) as { groupVersion: string }[];
  t.notOk(enablementsBefore.some((e) => e.groupVersion === 'webapp.my.domain/v1'), 'member1 does not report webapp.my.domain/v1 yet');

  const member1Crd = await fed.memberKubectl('member1', MINOR, ['apply', '-f', sample('samples/guestbook/guestbooks-crd.yaml')]);
  t.equal(member1Crd.code, 0, 'the CRD created in member1 (kubectl against member1)', { stderr: member1Crd.stderr });
  const established = await fed.memberKubectl('member1', MINOR, ['wait', '--for=condition=Established', '-f', sample('samples/guestbook/guestbooks-crd.yaml'), '--timeout=30s']);
  t.equal(established.code, 0, 'established in member1', { stderr: established.stderr });
  await eventually(t, 'member1 reports webapp.my.domain/v1 Guestbook in apiEnablements', async () => {
    const enablements = (statusOf(await mustGet(['cluster', 'member1']))['apiEnablements'] ?? []) as { groupVersion: string; resources?: { kind: string }[] }[];
    return enablements.some((e) => e.groupVersion === 'webapp.my.domain/v1' && (e.resources ?? []).some((r) => r.kind === 'Guestbook'));
  }, 10_000);
  const scheduled = await decided(t, 'rb', 'guestbook-sample-guestbook', (b) => conditionOf(b, 'Scheduled')?.status === 'True');
  if (scheduled) {
    await checkScheduled(t, {
      kind: 'rb', name: 'guestbook-sample-guestbook', template: ['guestbook', 'guestbook-sample', '-n', 'default'], policy: ['pp', 'example-policy', '-n', 'default'],
      clusters: [{ name: 'member1' }],
    });
  }
  t.comment(`case took ${Date.now() - caseStart} ms`);
});

t.test('both processes stop cleanly on SIGTERM', async (t) => {
  const codes = await fed.stop();
  t.equal(codes.member, 0, 'flotilla member exits 0', { stderr: fed.memberProc.stderr });
  t.equal(codes.serve, 0, 'flotilla serve exits 0', { stderr: fed.serve.stderr });
});
