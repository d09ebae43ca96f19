import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Test } from 'tap';
import type { KubeObject } from '../src/api/object.js';
import { workName } from '../src/karmada/work-builder.js';
import { pollUntil, runFlotilla, startFederation } from './federation-harness.js';
import type { Federation } from './federation-harness.js';

/**
 * Issue 7, must-shows 1–3 (failover has its own suite): a running federation — real processes only:
 * `flotilla serve`, one `flotilla member --count 3`, `flotilla join` for each — driven with kubectl
 * alone. Karmada's samples (conformance/fixtures/karmada-samples, unchanged) propagate into the members
 * with the replicas, labels, annotations and images INDEX.md expects; the template's status on the
 * control plane sums the members'; deleting a template removes it everywhere, including from a member
 * that was down during the delete; namespaces reach every member; unjoining a member cleans it up.
 *
 * Members (as the scheduling suite joins them, so the samples' selectors have something to tell apart):
 *   member1 location=us, member2 location=cn, member3 location=eu.
 */
const MINOR = '1.31';
const SAMPLES = fileURLToPath(new URL('./fixtures/karmada-samples/', import.meta.url));
const sample = (file: string): string => `${SAMPLES}${file}`;
const PROPAGATION_TIMEOUT_MS = 30_000;
const started = Date.now();

const fed: Federation = await startFederation({
  members: [
    { name: 'member1', provider: 'huaweicloud', labels: { location: 'us' } },
    { name: 'member2', region: 'cn-north-1', labels: { location: 'cn' } },
    { name: 'member3', provider: 'huaweicloud', region: 'eu-west-1', labels: { location: 'eu' } },
  ],
});
t.teardown(async () => {
  await fed.stop();
  t.comment(`karmada-propagation suite took ${Date.now() - started} ms`);
});
t.comment(`federation started and joined in ${Date.now() - started} ms`);

// ---- helpers ----

interface Condition { type: string; status: string; reason?: string; message?: string }
type Where = 'control-plane' | 'member1' | 'member2' | 'member3';
const MEMBERS = ['member1', 'member2', 'member3'] as const;

const specOf = (o: KubeObject | undefined): Record<string, unknown> => (o?.['spec'] ?? {}) as Record<string, unknown>;
const statusOf = (o: KubeObject | undefined): Record<string, unknown> => (o?.['status'] ?? {}) as Record<string, unknown>;
const conditionOf = (o: KubeObject | undefined, type: string): Condition | undefined => ((statusOf(o)['conditions'] ?? []) as Condition[]).find((c) => c.type === type);
const containersOf = (o: KubeObject | undefined): { name: string; image?: string; command?: string[] }[] =>
  (((specOf(o)['template'] as Record<string, unknown> | undefined)?.['spec'] as Record<string, unknown> | undefined)?.['containers'] ?? []) as { name: string; image?: string; command?: string[] }[];

function kubectlAt(where: Where, args: readonly string[], stdin?: string) {
  const options = stdin !== undefined ? { stdin } : {};
  return where === 'control-plane' ? fed.kubectl(MINOR, args, options) : fed.memberKubectl(where, MINOR, args, options);
}

async function kubectlOk(t: Test, args: readonly string[], where: Where = 'control-plane', stdin?: string): Promise<string> {
  const result = await kubectlAt(where, args, stdin);
  t.equal(result.code, 0, `kubectl ${where === 'control-plane' ? '' : `(${where}) `}${args.join(' ').replaceAll(SAMPLES, '')}`, result.code !== 0 ? { stderr: result.stderr } : {});
  return result.stdout;
}

/** `kubectl get … -o json` somewhere; undefined when NotFound, throws on any other failure. */
async function getJson(where: Where, args: readonly string[]): Promise<KubeObject | undefined> {
  const result = await kubectlAt(where, ['get', ...args, '-o', 'json']);
  if (result.code !== 0) {
    if (/NotFound|not found/.test(result.stderr)) return undefined;
    throw new Error(`kubectl get ${args.join(' ')} (${where}): ${result.stderr}`);
  }
  return JSON.parse(result.stdout) as KubeObject;
}

/** Polls every 200 ms; passes with the value or fails with the last error and `diag()`. */
async function eventually<T>(t: Test, what: string, check: () => Promise<T | undefined | false>, timeoutMs = PROPAGATION_TIMEOUT_MS, diag?: () => Promise<Record<string, unknown>>): Promise<T | undefined> {
  const before = Date.now();
  let lastError: unknown;
  const value = await pollUntil(check, timeoutMs, 200, (last) => (lastError = last));
  if (value !== undefined) {
    t.pass(`${what} (${Date.now() - before} ms)`);
    return value;
  }
  t.fail(`${what} (not within ${timeoutMs} ms)`, { ...(lastError !== undefined ? { lastError: String(lastError) } : {}), ...(diag ? await diag().catch((err: unknown) => ({ diagError: String(err) })) : {}) });
  return undefined;
}

/** The object in a member once `want` holds for it. */
function inMember(t: Test, member: Where, args: readonly string[], what: string, want: (o: KubeObject) => boolean = () => true): Promise<KubeObject | undefined> {
  let last: KubeObject | undefined;
  return eventually(t, `${member}: ${what}`, async () => {
    last = await getJson(member, args);
    return last && want(last) ? last : undefined;
  }, PROPAGATION_TIMEOUT_MS, async () => {
    // On failure, in brief: the member object, its Work on the control plane, and the processes' last warnings.
    const workName = last?.metadata.annotations?.['work.karmada.io/name'];
    const workNamespace = last?.metadata.annotations?.['work.karmada.io/namespace'];
    const work = workName && workNamespace ? await getJson('control-plane', ['works.work.karmada.io', workName, '-n', workNamespace]) : undefined;
    return {
      member: last ? { rv: last.metadata.resourceVersion, generation: last.metadata.generation, replicas: specOf(last)['replicas'], images: containersOf(last).map((c) => c.image), observedGeneration: statusOf(last)['observedGeneration'] } : 'not found',
      work: work ? { generation: work.metadata.generation, images: workImages(work), conditions: ((statusOf(work)['conditions'] ?? []) as (Condition & { observedGeneration?: number })[]).map((c) => `${c.type}=${c.status} ${c.reason ?? ''} g${c.observedGeneration ?? '?'} ${c.message ?? ''}`) } : 'not found',
      serveLog: fed.lastLogLines('serve'),
      memberLog: fed.lastLogLines('member'),
    };
  });
}

const workImages = (work: KubeObject): unknown[] => (((specOf(work)['workload'] as { manifests?: KubeObject[] } | undefined)?.manifests ?? []).flatMap((m) => containersOf(m).map((c) => c.image)));

function goneFromMember(t: Test, member: Where, args: readonly string[], what: string, timeoutMs = PROPAGATION_TIMEOUT_MS): Promise<boolean | undefined> {
  return eventually(t, `${member}: ${what} is gone`, async () => (await getJson(member, args)) === undefined, timeoutMs);
}

async function deleteAndWait(t: Test, args: readonly string[]): Promise<void> {
  await kubectlOk(t, ['delete', ...args, '--ignore-not-found', '--wait=true', '--timeout=60s']);
}

// ---- the nginx samples: Divided 1:1, overrides, status aggregation, rollout status ----

t.test('samples/nginx: Deployment + PropagationPolicy + OverridePolicy', async (t) => {
  await kubectlOk(t, ['apply', '-f', sample('samples/nginx/deployment.yaml')]);
  await kubectlOk(t, ['apply', '-f', sample('samples/nginx/overridepolicy.yaml')]);
  await kubectlOk(t, ['apply', '-f', sample('samples/nginx/propagationpolicy.yaml')]);

  const m1 = await inMember(t, 'member1', ['deploy', 'nginx', '-n', 'default'], 'nginx with 1 replica and the annotations override', (d) => specOf(d)['replicas'] === 1 && d.metadata.annotations?.['env'] === 'skoala-stage');
  const m2 = await inMember(t, 'member2', ['deploy', 'nginx', '-n', 'default'], 'nginx with 1 replica and the labels override', (d) => specOf(d)['replicas'] === 1 && d.metadata.labels?.['env'] === 'skoala-dev');
  t.equal(m1?.metadata.labels?.['env'], undefined, 'member1: the labels override (member2 only) is not applied');
  t.equal(m1?.metadata.labels?.['karmada.io/managed'], 'true', 'member1: labelled karmada.io/managed');
  t.equal(m1?.metadata.labels?.['app'], 'nginx', 'member1: the template labels are kept');
  t.equal(m2?.metadata.labels?.['env-stat'], 'skoala-stage', 'member2: second label added');
  t.equal(m2?.metadata.labels?.['bar'], undefined, 'member2: replace only acts on a label that exists');
  t.equal(m2?.metadata.annotations?.['env'], undefined, 'member2: the annotations override (member1 only) is not applied');
  t.equal(containersOf(m1)[0]?.image, 'nginx', 'member1: image unchanged');
  t.equal((await getJson('member3', ['deploy', 'nginx', '-n', 'default'])), undefined, 'member3 (not selected) has no nginx');

  const work = await getJson('control-plane', ['works.work.karmada.io', 'nginx-687f7fb96f', '-n', 'karmada-es-member1']);
  t.ok(work, "the Work has Karmada's name nginx-687f7fb96f in karmada-es-member1");
  t.equal(conditionOf(work, 'Applied')?.status ?? (await eventually(t, 'the Work is Applied', async () => conditionOf(await getJson('control-plane', ['works.work.karmada.io', 'nginx-687f7fb96f', '-n', 'karmada-es-member1']), 'Applied')?.status === 'True' ? 'True' : undefined)), 'True', 'Work Applied=True');
  const applied = await eventually(t, 'ResourceBinding nginx-deployment FullyApplied', async () => {
    const rb = await getJson('control-plane', ['rb', 'nginx-deployment', '-n', 'default']);
    return conditionOf(rb, 'FullyApplied')?.status === 'True' ? rb : undefined;
  });
  t.same((statusOf(applied)['aggregatedStatus'] as { clusterName: string; applied: boolean }[] | undefined)?.map((i) => [i.clusterName, i.applied]), [['member1', true], ['member2', true]], 'aggregatedStatus: member1 and member2 applied');

  // Must-show 2: the control plane's Deployment shows the members' replicas, and rollout status completes.
  const summed = await eventually(t, 'control plane: deploy nginx READY 2/2 (summed over member1 and member2)', async () => {
    const out = await kubectlAt('control-plane', ['get', 'deploy', 'nginx', '-n', 'default', '--no-headers']);
    return /^nginx\s+2\/2\s+2\s+2\s/.test(out.stdout) ? out.stdout : undefined;
  });
  t.ok(summed, 'kubectl get deploy nginx shows 2/2 ready, 2 up-to-date, 2 available');
  const rollout = await kubectlAt('control-plane', ['rollout', 'status', 'deployment/nginx', '-n', 'default', '--timeout=60s']);
  t.equal(rollout.code, 0, 'kubectl rollout status deployment/nginx completes', { stdout: rollout.stdout, stderr: rollout.stderr });
  t.match(rollout.stdout, /successfully rolled out/, 'rollout status says so');

  // A new template generation: the members follow, and rollout status waits for them.
  await kubectlOk(t, ['set', 'image', 'deployment/nginx', 'nginx=nginx:1.27', '-n', 'default']);
  const rollout2 = await kubectlAt('control-plane', ['rollout', 'status', 'deployment/nginx', '-n', 'default', '--timeout=60s']);
  t.equal(rollout2.code, 0, 'rollout status completes after kubectl set image', { stdout: rollout2.stdout.slice(-600), stderr: rollout2.stderr, serveLog: fed.lastLogLines('serve', 10) });
  for (const member of ['member1', 'member2'] as const) {
    await inMember(t, member, ['deploy', 'nginx', '-n', 'default'], 'runs the new image nginx:1.27', (d) => containersOf(d)[0]?.image === 'nginx:1.27');
  }
  const template = await getJson('control-plane', ['deploy', 'nginx', '-n', 'default']);
  t.equal(statusOf(template)['observedGeneration'], template?.metadata.generation, 'template status.observedGeneration reaches its generation');
});

t.test('artifacts/example: image, cluster and command overrides', async (t) => {
  await kubectlOk(t, ['apply', '-f', sample('artifacts/example/overridepolicy_image.yaml')]);
  await inMember(t, 'member1', ['deploy', 'nginx', '-n', 'default'], 'image registry replaced by fictional.registry.us (location=us)', (d) => containersOf(d)[0]?.image === 'fictional.registry.us/nginx:1.27');
  await inMember(t, 'member2', ['deploy', 'nginx', '-n', 'default'], 'image registry replaced by fictional.registry.cn (location=cn)', (d) => containersOf(d)[0]?.image === 'fictional.registry.cn/nginx:1.27');
  const work = await getJson('control-plane', ['works.work.karmada.io', 'nginx-687f7fb96f', '-n', 'karmada-es-member1']);
  const appliedOverrides = JSON.parse(work?.metadata.annotations?.['policy.karmada.io/applied-overrides'] ?? '[]') as { policyName: string }[];
  t.same(appliedOverrides.map((o) => o.policyName), ['example-override', 'nginx-op'], 'the Work records the applied OverridePolicies, sorted by name');

  // ClusterOverridePolicy: member1 always gets 1 replica; scale the template to 4 → member2 gets its share.
  await kubectlOk(t, ['apply', '-f', sample('artifacts/example/clusteroverridepolicy.yaml')]);
  await kubectlOk(t, ['scale', 'deployment/nginx', '--replicas=4', '-n', 'default']);
  await inMember(t, 'member2', ['deploy', 'nginx', '-n', 'default'], 'scaled to its share, 2 of 4', (d) => specOf(d)['replicas'] === 2);
  const m1 = await inMember(t, 'member1', ['deploy', 'nginx', '-n', 'default'], 'kept at 1 replica by the ClusterOverridePolicy (scheduled 2)', (d) => specOf(d)['replicas'] === 1 && d.metadata.annotations?.['env'] === 'skoala-stage');
  t.ok(m1, 'member1 still carries the OverridePolicy annotation (OverridePolicies apply after ClusterOverridePolicies)');
  await eventually(t, 'control plane: deploy nginx shows 3 ready (1 + 2, member1 overridden)', async () => {
    const d = await getJson('control-plane', ['deploy', 'nginx', '-n', 'default']);
    return statusOf(d)['readyReplicas'] === 3 && statusOf(d)['replicas'] === 3 ? d : undefined;
  });

  // overridepolicy_command.yaml replaces example-override: a command for container "alpine" is a no-op for nginx.
  await kubectlOk(t, ['apply', '-f', sample('artifacts/example/overridepolicy_command.yaml')]);
  await inMember(t, 'member1', ['deploy', 'nginx', '-n', 'default'], 'image override gone with the replaced policy; no command added to the nginx container', (d) => containersOf(d)[0]?.image === 'nginx:1.27' && containersOf(d)[0]?.command === undefined);
  await kubectlOk(t, ['delete', '-f', sample('artifacts/example/clusteroverridepolicy.yaml')]);
  await kubectlOk(t, ['delete', '-f', sample('artifacts/example/overridepolicy_command.yaml')]);
  await inMember(t, 'member1', ['deploy', 'nginx', '-n', 'default'], 'back to its scheduled 2 replicas once the ClusterOverridePolicy is deleted', (d) => specOf(d)['replicas'] === 2);
});

// ---- deletion, with a member down during the delete ----

t.test('deleting the template removes it from every member, also one that was down', async (t) => {
  const paused = await fed.admin('POST', '/members/member2/pause');
  t.equal(paused.code, 200, 'member2 paused');
  await kubectlOk(t, ['delete', 'deploy', 'nginx', '-n', 'default', '--wait=false']);
  await goneFromMember(t, 'member1', ['deploy', 'nginx', '-n', 'default'], 'nginx');
  await eventually(t, "member2's Work waits (deletion pending on its finalizer) while member2 is down", async () => {
    const work = await getJson('control-plane', ['works.work.karmada.io', 'nginx-687f7fb96f', '-n', 'karmada-es-member2']);
    return work?.metadata.deletionTimestamp && (work.metadata.finalizers ?? []).includes('karmada.io/execution-controller') ? work : undefined;
  });
  const resumed = await fed.admin('POST', '/members/member2/resume');
  t.equal(resumed.code, 200, 'member2 resumed');
  await goneFromMember(t, 'member2', ['deploy', 'nginx', '-n', 'default'], 'nginx (deleted once member2 is back)', 60_000);
  await eventually(t, 'the binding and its Works are gone', async () => {
    const rb = await getJson('control-plane', ['rb', 'nginx-deployment', '-n', 'default']);
    const works = await kubectlAt('control-plane', ['get', 'works.work.karmada.io', '-A', '-o', 'name']);
    return rb === undefined && !works.stdout.includes('nginx-687f7fb96f');
  });
  await deleteAndWait(t, ['-f', sample('samples/nginx/propagationpolicy.yaml')]);
  await deleteAndWait(t, ['-f', sample('samples/nginx/overridepolicy.yaml')]);
  await deleteAndWait(t, ['-f', sample('artifacts/example/overridepolicy_image.yaml')]);
});

// ---- CRD and CR propagation (guestbook) ----

t.test('samples/guestbook: the CRD and the CR propagate, with the plaintext override', async (t) => {
  await kubectlOk(t, ['apply', '-f', sample('samples/guestbook/guestbooks-crd.yaml')]);
  await kubectlOk(t, ['apply', '-f', sample('samples/guestbook/guestbooks-clusterpropagationpolicy.yaml')]);
  await inMember(t, 'member1', ['crd', 'guestbooks.webapp.my.domain'], 'the Guestbook CRD');
  t.equal(await getJson('member2', ['crd', 'guestbooks.webapp.my.domain']), undefined, 'member2 (not selected) has no Guestbook CRD');
  await kubectlOk(t, ['apply', '-f', sample('samples/guestbook/guestbook.yaml')]);
  await kubectlOk(t, ['apply', '-f', sample('samples/guestbook/guestbooks-overridepolicy.yaml')]);
  await kubectlOk(t, ['apply', '-f', sample('samples/guestbook/guestbooks-propagationpolicy.yaml')]);
  const cr = await inMember(t, 'member1', ['guestbooks.webapp.my.domain', 'guestbook-sample', '-n', 'default'], 'Guestbook guestbook-sample with size 4 (plaintext override)', (g) => specOf(g)['size'] === 4);
  t.equal(cr?.metadata.annotations?.['OverridePolicy'], 'test', 'the override replaced the annotations map with {"OverridePolicy": "test"}');
  t.ok(cr?.metadata.annotations?.['resourcetemplate.karmada.io/uid'], "Karmada's own annotations are re-added after the override");
  t.ok(await getJson('control-plane', ['works.work.karmada.io', 'guestbook-sample-6849fdbd59', '-n', 'karmada-es-member1']), "the CR's Work is guestbook-sample-6849fdbd59");
  await deleteAndWait(t, ['-f', sample('samples/guestbook/guestbook.yaml')]);
  await goneFromMember(t, 'member1', ['guestbooks.webapp.my.domain', 'guestbook-sample', '-n', 'default'], 'guestbook-sample');
  await deleteAndWait(t, ['-f', sample('samples/guestbook/guestbooks-crd.yaml')]);
  await goneFromMember(t, 'member1', ['crd', 'guestbooks.webapp.my.domain'], 'the Guestbook CRD');
  for (const file of ['guestbooks-propagationpolicy.yaml', 'guestbooks-overridepolicy.yaml', 'guestbooks-clusterpropagationpolicy.yaml']) await deleteAndWait(t, ['-f', sample(`samples/guestbook/${file}`)]);
});

// ---- Duplicated: status sums over clusters ----

t.test('propagationpolicy_simple (Duplicated): each member runs all replicas; the template sums them', async (t) => {
  await kubectlOk(t, ['create', 'deployment', 'deployment-1', '--image=nginx', '--replicas=2', '-n', 'default']);
  await kubectlOk(t, ['apply', '-f', sample('artifacts/example/propagationpolicy_simple.yaml')]);
  for (const member of ['member1', 'member2'] as const) {
    await inMember(t, member, ['deploy', 'deployment-1', '-n', 'default'], 'deployment-1 with the full 2 replicas', (d) => specOf(d)['replicas'] === 2);
  }
  await eventually(t, "control plane: status.replicas is 4 (Karmada's documented sum for Duplicated)", async () => {
    const d = await getJson('control-plane', ['deploy', 'deployment-1', '-n', 'default']);
    return statusOf(d)['replicas'] === 4 && statusOf(d)['readyReplicas'] === 4 ? d : undefined;
  });
  await deleteAndWait(t, ['deploy', 'deployment-1', '-n', 'default']);
  for (const member of ['member1', 'member2'] as const) await goneFromMember(t, member, ['deploy', 'deployment-1', '-n', 'default'], 'deployment-1');
  await deleteAndWait(t, ['-f', sample('artifacts/example/propagationpolicy_simple.yaml')]);
});

// ---- namespaces, conflicts, unjoin ----

t.test('namespaces reach every member; objects there propagate; unmanaged objects are not taken over', async (t) => {
  await kubectlOk(t, ['create', 'namespace', 'shop']);
  for (const member of MEMBERS) await inMember(t, member, ['namespace', 'shop'], 'namespace shop (auto-propagated, no policy)');
  const namespaceWork = await getJson('control-plane', ['works.work.karmada.io', workName('Namespace', 'shop'), '-n', 'karmada-es-member1']);
  t.equal(namespaceWork?.metadata.ownerReferences?.[0]?.kind, 'Namespace', `the namespace's Work ${workName('Namespace', 'shop')} is owned by the Namespace`);
  // A ConfigMap that already exists in member2, not created by Karmada: member2's Work fails, member1's applies.
  await kubectlOk(t, ['create', 'configmap', 'settings', '--from-literal=owner=member2-team', '-n', 'shop'], 'member2');
  await kubectlOk(t, ['create', 'configmap', 'settings', '--from-literal=owner=control-plane', '-n', 'shop']);
  const policy = {
    apiVersion: 'policy.karmada.io/v1alpha1', kind: 'PropagationPolicy', metadata: { name: 'settings', namespace: 'shop' },
    spec: { resourceSelectors: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'settings' }], placement: { clusterAffinity: { clusterNames: ['member1', 'member2'] } } },
  };
  await kubectlOk(t, ['apply', '-f', '-'], 'control-plane', JSON.stringify(policy));
  await inMember(t, 'member1', ['configmap', 'settings', '-n', 'shop'], 'the ConfigMap from the control plane', (c) => (c['data'] as Record<string, string> | undefined)?.['owner'] === 'control-plane');
  const failed = await eventually(t, "member2's Work is Applied=False: the object exists and Karmada will not manage it", async () => {
    const out = await kubectlAt('control-plane', ['get', 'works.work.karmada.io', '-n', 'karmada-es-member2', '-o', 'json']);
    const works = (JSON.parse(out.stdout) as { items: KubeObject[] }).items;
    const work = works.find((w) => w.metadata.name?.startsWith('settings-'));
    const applied = conditionOf(work, 'Applied');
    return applied?.status === 'False' ? applied : undefined;
  });
  t.match(failed?.message, /already exists in the cluster member2 .*Karmada will not manage this resource/, 'the Applied condition says why');
  const untouched = await getJson('member2', ['configmap', 'settings', '-n', 'shop']);
  t.equal((untouched?.['data'] as Record<string, string> | undefined)?.['owner'], 'member2-team', "member2's own ConfigMap is left alone");
  await eventually(t, 'the binding is FullyApplied=False with reason FullyAppliedFailed', async () => {
    const rb = await getJson('control-plane', ['rb', 'settings-configmap', '-n', 'shop']);
    return conditionOf(rb, 'FullyApplied')?.reason === 'FullyAppliedFailed' ? rb : undefined;
  });

  // Unjoin member3: its Works go and what they made in member3 is removed.
  const unjoin = await runFlotilla(['unjoin', 'member3', '--kubeconfig', fed.controlPlaneKubeconfig, '--wait', '60s'], 90_000);
  t.equal(unjoin.code, 0, 'flotilla unjoin member3', { stdout: unjoin.stdout, stderr: unjoin.stderr });
  await goneFromMember(t, 'member3', ['namespace', 'shop'], 'namespace shop (cleaned up by unjoin)', 60_000);
});
