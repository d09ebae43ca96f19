import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Test } from 'tap';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../src/api/object.js';
import { HttpClient, isApiError, resourcePath } from '../src/client/client.js';
import type { WatchEvent } from '../src/client/client.js';
import { adminCredentials, startServer } from './harness.js';
import type { RunningServer } from './harness.js';
import { INVALID_CASES } from '../test/karmada/invalid-objects.js';

/**
 * Karmada's federation API on a real `flotilla serve`, driven by real kubectl (1.29 and 1.31) and by
 * our HTTPS client: Karmada's own sample manifests apply unchanged (client-side and server-side),
 * read back with Karmada's defaults, and re-apply as no-ops; listing, printer columns, explain and the
 * v1alpha1 binding version work; invalid objects get 422 naming the bad field; deletion protection,
 * the cluster proxy's 503 and policy deletion (claims released, finalizer removed) behave as Karmada's.
 */
// The API's own behaviour with hand-made bindings and Works: the controllers that would act on them (finalizers, Works, status) stay off.
const API_ONLY = ['--controllers', '*,-binding,-execution,-work-status,-binding-status,-namespace-sync'];
const MINORS = ['1.29', '1.31'] as const;
const SAMPLES = fileURLToPath(new URL('./fixtures/karmada-samples/', import.meta.url));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Every sample file, the Guestbook CRD before the Guestbook. */
async function sampleFiles(): Promise<string[]> {
  const files: string[] = [];
  for (const dir of ['samples/nginx', 'samples/guestbook', 'artifacts/example']) {
    for (const name of (await readdir(`${SAMPLES}${dir}`)).filter((n) => n.endsWith('.yaml')).sort()) files.push(`${dir}/${name}`);
  }
  const crdFirst = (f: string) => (f.endsWith('guestbooks-crd.yaml') ? 0 : 1);
  return files.sort((a, b) => crdFirst(a) - crdFirst(b) || a.localeCompare(b));
}

async function clientFor(server: RunningServer): Promise<HttpClient> {
  const creds = await adminCredentials(server.kubeconfig);
  return new HttpClient({ server: server.url, caPem: creds.ca.toString(), certPem: creds.cert.toString(), keyPem: creds.key.toString(), userAgent: 'karmada-api-test' });
}

async function kubectlOk(t: Test, server: RunningServer, minor: string, args: string[], stdin?: string): Promise<string> {
  const result = await server.kubectl(minor, args, stdin !== undefined ? { stdin } : {});
  t.equal(result.code, 0, `kubectl ${minor} ${args.join(' ')}${result.code !== 0 ? `\n${result.stderr}` : ''}`);
  return result.stdout;
}

/** The objects a sample file names, as the server has them (kubectl get -f … -o json). */
async function readBack(t: Test, server: RunningServer, minor: string, path: string): Promise<KubeObject[]> {
  const out = await kubectlOk(t, server, minor, ['get', '-f', path, '-o', 'json']);
  const parsed = JSON.parse(out) as KubeObject & { items?: KubeObject[] };
  return parsed.items ?? [parsed];
}

const spec = (o: KubeObject): Record<string, unknown> => (o['spec'] ?? {}) as Record<string, unknown>;

/** Karmada's defaults, as its CRDs and webhooks fill them, on what the samples create. */
function checkDefaults(t: Test, object: KubeObject, sample: KubeObject): void {
  const what = `${String(object.kind)}/${String(object.metadata.name)}`;
  const labels = object.metadata.labels ?? {};
  const s = spec(object);
  switch (object.kind) {
    case 'PropagationPolicy':
    case 'ClusterPropagationPolicy': {
      const prefix = object.kind === 'PropagationPolicy' ? 'propagationpolicy' : 'clusterpropagationpolicy';
      t.match(labels[`${prefix}.karmada.io/permanent-id`], UUID, `${what}: permanent-id label`);
      t.ok(object.metadata.finalizers?.includes(object.kind === 'PropagationPolicy' ? 'karmada.io/propagation-policy-controller' : 'karmada.io/cluster-propagation-policy-controller'), `${what}: finalizer`);
      t.equal(s['priority'], 0, `${what}: priority defaults to 0`);
      t.equal(s['preemption'], 'Never', `${what}: preemption defaults to Never`);
      t.equal(s['conflictResolution'], 'Abort', `${what}: conflictResolution defaults to Abort`);
      t.equal(s['schedulerName'], spec(sample)['schedulerName'] ?? 'default-scheduler', `${what}: schedulerName`);
      if (object.kind === 'PropagationPolicy') {
        for (const selector of s['resourceSelectors'] as Record<string, unknown>[]) t.equal(selector['namespace'], 'default', `${what}: selector namespace defaults to the policy's`);
      }
      const spread = ((s['placement'] as Record<string, unknown> | undefined)?.['spreadConstraints'] ?? []) as Record<string, unknown>[];
      for (const constraint of spread) t.ok((constraint['minGroups'] as number) >= 1, `${what}: spread minGroups defaulted`);
      const scheduling = (s['placement'] as Record<string, unknown> | undefined)?.['replicaScheduling'] as Record<string, unknown> | undefined;
      if (scheduling) t.equal(scheduling['replicaDivisionPreference'], 'Weighted', `${what}: Divided without a preference is Weighted`);
      break;
    }
    case 'OverridePolicy':
      for (const selector of (s['resourceSelectors'] ?? []) as Record<string, unknown>[]) t.equal(selector['namespace'], 'default', `${what}: selector namespace defaults to the policy's`);
      break;
    case 'Cluster':
      t.equal(object.metadata.namespace, undefined, `${what}: a cluster-scoped object has no namespace`);
      t.equal(s['syncMode'], 'Push', `${what}: syncMode`);
      t.equal((s['resourceModels'] as unknown[] | undefined)?.length, 9, `${what}: the default resource model (grades 0..8) is filled in`);
      break;
    case 'ResourceBinding':
      t.equal(object.apiVersion, sample.apiVersion, `${what}: reads back at the version kubectl asked for`);
      t.same((s['clusters'] as { name: string }[]).map((c) => c.name), ['cluster1', 'cluster3'], `${what}: v1alpha1 clusters converted`);
      t.match(labels['resourcebinding.karmada.io/permanent-id'], UUID, `${what}: permanent-id label`);
      break;
    default:
      break;
  }
}

/**
 * Applies every sample (kubectl 1.29 creates, 1.31 then 1.29 re-apply), checks defaults and that the
 * re-applies changed nothing (same resourceVersion), then deletes the file's objects: several samples
 * reuse one name (two PropagationPolicies `nginx-propagation`, two `example-policy`), so each file is
 * applied on a clean slate. The Guestbook CRD stays for the Guestbook sample.
 */
async function applySamples(t: Test, server: RunningServer, mode: 'client-side' | 'server-side'): Promise<void> {
  const flags = mode === 'server-side' ? ['--server-side'] : [];
  for (const file of await sampleFiles()) {
    const path = `${SAMPLES}${file}`;
    const samples = parseAllDocuments(await readFile(path, 'utf8')).map((d) => d.toJS() as KubeObject).filter(Boolean);
    await t.test(`${mode} apply ${file}`, async (t) => {
      await kubectlOk(t, server, '1.29', ['apply', ...flags, '-f', path]);
      // A new CRD's status is written by the server moments later; compare once it is established.
      if (file.endsWith('guestbooks-crd.yaml')) await kubectlOk(t, server, '1.31', ['wait', '--for=condition=Established', '-f', path, '--timeout=30s']);
      // The cluster controllers act on a new Cluster at once (finalizer, not-ready taint, a first
      // probe of its unreachable endpoint); compare once they have had their say.
      if (samples.some((o) => o.kind === 'Cluster')) {
        await kubectlOk(t, server, '1.31', ['wait', '--for=jsonpath={.status.conditions[?(@.type=="Ready")].status}=False', 'clusters', '--all', '--timeout=30s']);
      }
      const created = await readBack(t, server, '1.31', path);
      t.equal(created.length, samples.length, 'every object in the file exists');
      created.forEach((object, i) => checkDefaults(t, object, samples[i] as KubeObject));
      for (const minor of ['1.31', '1.29']) {
        // (kubectl may still print "configured" for a manifest with a status stanza, as against kube:
        // the main resource ignores status, so the server's answer is a no-op.)
        await kubectlOk(t, server, minor, ['apply', ...flags, '-f', path]);
        const again = await readBack(t, server, minor, path);
        t.same(again.map((o) => o.metadata.resourceVersion), created.map((o) => o.metadata.resourceVersion), `kubectl ${minor} re-apply is a no-op (same resourceVersion)`);
      }
      if (!file.endsWith('guestbooks-crd.yaml')) await kubectlOk(t, server, '1.31', ['delete', '-f', path, '--wait=true', '--timeout=60s']);
    });
  }
}

t.test('Karmada samples apply unchanged, client-side', async (t) => {
  const server = await startServer({ serveArgs: API_ONLY });
  t.teardown(() => server.stop());
  await applySamples(t, server, 'client-side');
});

t.test('Karmada samples apply unchanged, server-side', async (t) => {
  const server = await startServer({ serveArgs: API_ONLY });
  t.teardown(() => server.stop());
  await applySamples(t, server, 'server-side');
});

t.test('the federation API through kubectl and a client', async (t) => {
  const server = await startServer({ serveArgs: API_ONLY });
  const client = await clientFor(server);
  t.teardown(async () => {
    client.close();
    await server.stop();
  });
  const rb = { group: 'work.karmada.io', version: 'v1alpha2', resource: 'resourcebindings' };
  const rbV1 = { ...rb, version: 'v1alpha1' };
  const crb = { group: 'work.karmada.io', version: 'v1alpha2', resource: 'clusterresourcebindings' };
  const works = { group: 'work.karmada.io', version: 'v1alpha1', resource: 'works' };
  const clusters = { group: 'cluster.karmada.io', version: 'v1alpha1', resource: 'clusters' };
  const pps = { group: 'policy.karmada.io', version: 'v1alpha1', resource: 'propagationpolicies' };
  const deployments = { group: 'apps', version: 'v1', resource: 'deployments' };

  // One object of every kind (samples plus a CRB, a Work and a COP).
  for (const file of ['samples/nginx/deployment.yaml', 'samples/nginx/propagationpolicy.yaml', 'artifacts/example/clusterpropagationpolicy_simple.yaml', 'samples/nginx/overridepolicy.yaml', 'artifacts/example/clusteroverridepolicy.yaml', 'artifacts/example/cr_cluster.yaml', 'artifacts/example/binding.yaml']) {
    await kubectlOk(t, server, '1.31', ['apply', '-f', `${SAMPLES}${file}`]);
  }
  await client.create(resourcePath({ group: '', version: 'v1', resource: 'namespaces' }), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'karmada-es-member1' } });
  await client.create(resourcePath(works, 'karmada-es-member1'), {
    apiVersion: 'work.karmada.io/v1alpha1', kind: 'Work', metadata: { name: 'nginx-687f7fb96f' },
    spec: { workload: { manifests: [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'nginx', namespace: 'default', resourceVersion: '12', uid: 'x' }, spec: { replicas: 1 }, status: { replicas: 1 } }] } },
  });
  await client.create(resourcePath(crb), {
    apiVersion: 'work.karmada.io/v1alpha2', kind: 'ClusterResourceBinding', metadata: { name: 'guestbooks.webapp.my.domain-customresourcedefinition' },
    spec: { resource: { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'guestbooks.webapp.my.domain' }, clusters: [{ name: 'member1' }] },
  });
  // The binding controller may be adding its finalizer meanwhile: retry on conflict, as any client would.
  for (let attempt = 1; ; attempt++) {
    try {
      await client.update(resourcePath(crb, undefined, 'guestbooks.webapp.my.domain-customresourcedefinition', 'status'), {
        ...(await client.get(resourcePath(crb, undefined, 'guestbooks.webapp.my.domain-customresourcedefinition'))),
        status: { conditions: [{ type: 'Scheduled', status: 'True', reason: 'Success', message: 'Binding has been scheduled successfully.', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] },
      });
      break;
    } catch (err) {
      if (attempt >= 10 || !isApiError(err, 409)) throw err;
    }
  }

  await t.test('the Work webhook prunes manifests and labels the Work', async (t) => {
    const work = await client.get(resourcePath(works, 'karmada-es-member1', 'nginx-687f7fb96f'));
    t.match(work.metadata.labels?.['work.karmada.io/permanent-id'], UUID);
    const manifest = ((work['spec'] as { workload: { manifests: KubeObject[] } }).workload.manifests)[0] as KubeObject;
    t.equal(manifest.metadata.resourceVersion, undefined, 'resourceVersion pruned');
    t.equal(manifest.metadata.uid, undefined, 'uid pruned');
    t.equal(manifest['status'], undefined, 'status pruned');
  });

  for (const minor of MINORS) {
    await t.test(`kubectl ${minor} get pp,cpp,op,cop,rb,crb,works,clusters -A`, async (t) => {
      const out = await kubectlOk(t, server, minor, ['get', 'pp,cpp,op,cop,rb,crb,works,clusters', '-A']);
      for (const name of ['propagationpolicy.policy.karmada.io/nginx-propagation', 'clusterpropagationpolicy.policy.karmada.io/example-policy', 'overridepolicy.policy.karmada.io/nginx-op',
        'clusteroverridepolicy.policy.karmada.io/example-cluster-override', 'resourcebinding.work.karmada.io/binding-foo', 'clusterresourcebinding.work.karmada.io/guestbooks.webapp.my.domain-customresourcedefinition',
        'work.work.karmada.io/nginx-687f7fb96f', 'cluster.cluster.karmada.io/cluster-foo']) {
        t.match(out, name, `lists ${name}`);
      }
      t.match(out, /NAMESPACE\s+NAME\s+CONFLICT-RESOLUTION\s+PRIORITY\s+AGE\n\S+\s+propagationpolicy.policy.karmada.io\/nginx-propagation\s+Abort\s+0\s+\d+s/, 'pp columns');
      t.match(out, /NAMESPACE\s+NAME\s+SCHEDULED\s+FULLYAPPLIED\s+AGE\n\s+clusterresourcebinding.\S+\s+True\s+(False\s+)?\d+s/, 'crb columns (Scheduled=True; FullyApplied False once the binding status controller saw that member1 has no Work)');
      t.match(out, /NAMESPACE\s+NAME\s+WORKLOAD-KIND\s+APPLIED\s+AGE\nkarmada-es-member1\s+work.work.karmada.io\/nginx-687f7fb96f\s+Deployment\s+\d+s/, 'work columns');
      t.match(out, /NAMESPACE\s+NAME\s+VERSION\s+MODE\s+READY\s+AGE\n\s+cluster.cluster.karmada.io\/cluster-foo\s+Push\s+False\s+\d+s/, 'cluster columns: READY is the Ready condition (its endpoint is unreachable)');
      const wide = await kubectlOk(t, server, minor, ['get', 'clusters', '-o', 'wide']);
      t.match(wide, /NAME\s+VERSION\s+MODE\s+READY\s+AGE\s+ZONES\s+REGION\s+PROVIDER\s+API-ENDPOINT\s+PROXY-URL\ncluster-foo\s+Push\s+False\s+\d+s\s+<none>\s+ap-southeast-1\s+huaweicloud\s+https:\/\/10.10.10.10:6339\s+<none>/);
      const byCategory = await kubectlOk(t, server, minor, ['get', 'karmada-io', '-A', '-o', 'name']);
      t.match(byCategory, 'propagationpolicy.policy.karmada.io/nginx-propagation', 'the karmada-io category lists policies');
      t.match(byCategory, 'work.work.karmada.io/nginx-687f7fb96f', 'and works');
    });

    await t.test(`kubectl ${minor} explain on nested fields`, async (t) => {
      const placement = await kubectlOk(t, server, minor, ['explain', 'pp.spec.placement']);
      t.match(placement, /KIND:\s+PropagationPolicy/);
      t.match(placement, /GROUP:\s+policy.karmada.io/);
      for (const field of ['clusterAffinity', 'clusterAffinities', 'clusterTolerations', 'spreadConstraints', 'replicaScheduling']) t.match(placement, new RegExp(`\\n\\s+${field}\\s`), `lists placement.${field}`);
      const weight = await kubectlOk(t, server, minor, ['explain', 'propagationpolicies.spec.placement.replicaScheduling.replicaDivisionPreference']);
      t.match(weight, /Aggregated/, 'enum values shown');
      const syncMode = await kubectlOk(t, server, minor, ['explain', 'clusters.spec.syncMode']);
      t.match(syncMode, /GROUP:\s+cluster.karmada.io/);
      t.match(syncMode, /Push/);
      const manifests = await kubectlOk(t, server, minor, ['explain', 'works.spec.workload']);
      t.match(manifests, /manifests/);
      const rbClusters = await kubectlOk(t, server, minor, ['explain', 'rb.spec.clusters']);
      t.match(rbClusters, /VERSION:\s+v1alpha2/);
      t.match(rbClusters, /replicas/);
      const overriders = await kubectlOk(t, server, minor, ['explain', 'op.spec.overrideRules.overriders.imageOverrider.component']);
      t.match(overriders, /Registry/);
    });

    await t.test(`kubectl ${minor} get resourcebindings.v1alpha1.work.karmada.io`, async (t) => {
      const table = await kubectlOk(t, server, minor, ['get', 'resourcebindings.v1alpha1.work.karmada.io']);
      t.match(table, /NAME\s+SCHEDULED\s+FULLYAPPLIED\s+AGE\nbinding-foo\s+(False\s+)?\d+s/, 'binding-foo: not scheduled by anyone; FullyApplied False (its clusters have no Works) once seen');
      const json = JSON.parse(await kubectlOk(t, server, minor, ['get', 'resourcebindings.v1alpha1.work.karmada.io', 'binding-foo', '-o', 'json'])) as KubeObject;
      t.equal(json.apiVersion, 'work.karmada.io/v1alpha1');
      t.same(spec(json)['resource'], { apiVersion: 'apps/v1', kind: 'Deployment', name: 'nginx', namespace: 'default' });
      t.same(spec(json)['clusters'], [{ name: 'cluster1' }, { name: 'cluster3' }]);
    });
  }

  await t.test('v1alpha1 and v1alpha2 bindings are one object, converted both ways', async (t) => {
    const created = await client.create(resourcePath(rb, 'default'), {
      apiVersion: 'work.karmada.io/v1alpha2', kind: 'ResourceBinding', metadata: { name: 'web-deployment' },
      spec: {
        resource: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'web', resourceVersion: '7' },
        replicas: 3, replicaRequirements: { resourceRequest: { cpu: '250m' } },
        placement: { clusterAffinity: { clusterNames: ['member1'] } }, schedulerName: 'default-scheduler',
        clusters: [{ name: 'member1', replicas: 3 }],
      },
    });
    const old = await client.get(resourcePath(rbV1, 'default', 'web-deployment'));
    t.equal(old.apiVersion, 'work.karmada.io/v1alpha1');
    t.same(spec(old)['resource'], { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'web', resourceVersion: '7', replicas: 3, resourcePerReplicas: { cpu: '250m' } });
    t.equal(old.metadata.resourceVersion, created.metadata.resourceVersion, 'one stored object');
    const list = await client.list(resourcePath(rbV1, 'default'));
    t.equal(list.apiVersion, 'work.karmada.io/v1alpha1');
    t.ok(list.items.every((o) => o.apiVersion === 'work.karmada.io/v1alpha1'), 'list items converted');

    // A v1alpha1 client's update changes what v1alpha1 expresses and keeps the rest.
    const abort = new AbortController();
    const events: WatchEvent[] = [];
    const watching = (async () => {
      for await (const event of client.watch(resourcePath(rbV1, 'default'), { resourceVersion: created.metadata.resourceVersion as string, signal: abort.signal })) {
        events.push(event);
        if (events.length >= 1) break;
      }
    })().catch(() => undefined);
    const updated = await client.update(resourcePath(rbV1, 'default', 'web-deployment'), { ...old, spec: { ...spec(old), clusters: [{ name: 'member1', replicas: 2 }, { name: 'member2', replicas: 1 }] } });
    t.equal(updated.apiVersion, 'work.karmada.io/v1alpha1');
    const current = await client.get(resourcePath(rb, 'default', 'web-deployment'));
    t.same(spec(current)['clusters'], [{ name: 'member1', replicas: 2 }, { name: 'member2', replicas: 1 }], 'v1alpha1 update stored');
    t.same(spec(current)['placement'], { clusterAffinity: { clusterNames: ['member1'] } }, 'v1alpha2-only placement kept');
    t.equal(spec(current)['schedulerName'], 'default-scheduler', 'v1alpha2-only schedulerName kept');
    await Promise.race([watching, new Promise((r) => setTimeout(r, 5_000))]);
    abort.abort();
    t.equal(events[0]?.type, 'MODIFIED');
    t.equal(events[0]?.object.apiVersion, 'work.karmada.io/v1alpha1', 'a v1alpha1 watch sees v1alpha1 objects');

    // A merge patch at v1alpha1 applies to the v1alpha1 shape.
    const patched = await client.patch(resourcePath(rbV1, 'default', 'web-deployment'), 'merge', { spec: { resource: { replicas: 5 } } });
    t.equal((spec(patched)['resource'] as Record<string, unknown>)['replicas'], 5);
    t.equal(spec(await client.get(resourcePath(rb, 'default', 'web-deployment')))['replicas'], 5, 'stored as spec.replicas');
  });

  await t.test('invalid objects are answered 422 naming the field; their valid twins are accepted', async (t) => {
    t.ok(INVALID_CASES.length >= 40, `${INVALID_CASES.length} cases`);
    for (const c of INVALID_CASES) {
      const resource = { group: c.group, version: c.version, resource: c.plural };
      const path = resourcePath(resource, c.namespace);
      const err = await client.create(path, structuredClone(c.invalid) as KubeObject, { dryRun: true }).then(() => undefined, (e: unknown) => e);
      if (!isApiError(err, 422)) {
        t.fail(`${c.name}: expected 422, got ${err === undefined ? 'success' : String(err)}`);
        continue;
      }
      t.equal(err.reason, 'Invalid', `${c.name}: reason Invalid`);
      const fields = (err.details?.causes ?? []).map((cause) => cause.field);
      t.ok(fields.includes(c.field), `${c.name}: causes name ${c.field} (got ${fields.join(', ')})`);
      const ok = await client.create(path, structuredClone(c.valid) as KubeObject, { dryRun: true }).then(() => undefined, (e: unknown) => e);
      t.equal(ok, undefined, `${c.name}: valid twin accepted${ok ? ` (${String(ok)})` : ''}`);
    }
  });

  await t.test('clusters: status only through /status, generation on spec changes, credentials only by reference', async (t) => {
    const created = await client.create(resourcePath(clusters), {
      apiVersion: 'cluster.karmada.io/v1alpha1', kind: 'Cluster', metadata: { name: 'member9' },
      spec: { syncMode: 'Push', apiEndpoint: 'https://127.0.0.1:1', secretRef: { namespace: 'karmada-cluster', name: 'member9' } },
      status: { kubernetesVersion: 'v1.31.0' },
    });
    t.equal(created['status'], undefined, 'status dropped on create');
    t.equal(created.metadata.generation, 1);
    // The cluster controllers work on it meanwhile (finalizer, taints, status): read before each write.
    const withStatus = await client.patch(resourcePath(clusters, undefined, 'member9', 'status'), 'merge', { spec: { region: 'ignored' }, status: { kubernetesVersion: 'v1.31.0' } });
    t.equal(spec(withStatus)['region'], undefined, 'the status subresource ignores spec');
    const before = await client.get(resourcePath(clusters, undefined, 'member9'));
    const moved = await client.patch(resourcePath(clusters, undefined, 'member9'), 'merge', { spec: { region: 'eu-west-1' }, status: { kubernetesVersion: 'v9' } });
    t.ok((moved.metadata.generation as number) > (before.metadata.generation as number), 'a spec change bumps generation');
    t.not((moved['status'] as Record<string, unknown> | undefined)?.['kubernetesVersion'], 'v9', 'the main resource ignores status');
    const inline = await client.create(`${resourcePath(clusters)}?fieldValidation=Strict`, {
      apiVersion: 'cluster.karmada.io/v1alpha1', kind: 'Cluster', metadata: { name: 'inline-token' },
      spec: { syncMode: 'Push', apiEndpoint: 'https://127.0.0.1:1', token: 'secret-token' },
    }).then(() => undefined, (e: unknown) => e);
    t.ok(isApiError(inline, 400) && /unknown field "spec.token"/.test(inline.message), 'an inline token is not a Cluster field');
    const proxy = await client.get(`${resourcePath(clusters, undefined, 'member9', 'proxy')}/api/v1/namespaces`).then(() => undefined, (e: unknown) => e);
    t.ok(isApiError(proxy, 503), 'the proxy subresource answers 503 until proxying exists');
    const missing = await client.get(`${resourcePath(clusters, undefined, 'nope', 'proxy')}/api`).then(() => undefined, (e: unknown) => e);
    t.ok(isApiError(missing, 404), 'the proxy of a missing cluster is 404');
    const discovery = JSON.parse(await kubectlOk(t, server, '1.31', ['get', '--raw', '/apis/cluster.karmada.io/v1alpha1'])) as { resources: { name: string }[] };
    t.same(discovery.resources.map((r) => r.name).sort(), ['clusters', 'clusters/proxy', 'clusters/status'], 'discovery lists clusters, clusters/proxy and clusters/status');
  });

  await t.test('deletion protection', async (t) => {
    await client.create(resourcePath({ group: '', version: 'v1', resource: 'configmaps' }, 'default'), {
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'protected', labels: { 'resourcetemplate.karmada.io/deletion-protected': 'Always' } },
    });
    const denied = await server.kubectl('1.31', ['delete', 'configmap', 'protected']);
    t.not(denied.code, 0, 'kubectl delete fails');
    t.match(denied.stderr, /protected/);
    await kubectlOk(t, server, '1.31', ['label', 'configmap', 'protected', 'resourcetemplate.karmada.io/deletion-protected-']);
    await kubectlOk(t, server, '1.31', ['delete', 'configmap', 'protected']);
  });

  await t.test('deleting a policy releases its claims and then the policy goes', async (t) => {
    const pp = await client.get(resourcePath(pps, 'default', 'nginx-propagation'));
    const id = pp.metadata.labels?.['propagationpolicy.karmada.io/permanent-id'] as string;
    // What the detector will write when it claims the template (issue 6): the claim metadata.
    const claim = { metadata: { labels: { 'propagationpolicy.karmada.io/permanent-id': id, keep: 'me' }, annotations: { 'propagationpolicy.karmada.io/namespace': 'default', 'propagationpolicy.karmada.io/name': 'nginx-propagation' } } };
    await client.patch(resourcePath(deployments, 'default', 'nginx'), 'merge', claim);
    await client.patch(resourcePath(rb, 'default', 'web-deployment'), 'merge', claim);
    await kubectlOk(t, server, '1.31', ['delete', 'pp', 'nginx-propagation', '--wait=true', '--timeout=60s']);
    const gone = await client.get(resourcePath(pps, 'default', 'nginx-propagation')).then(() => undefined, (e: unknown) => e);
    t.ok(isApiError(gone, 404), 'the policy is gone');
    for (const path of [resourcePath(deployments, 'default', 'nginx'), resourcePath(rb, 'default', 'web-deployment')]) {
      const object = await client.get(path);
      t.equal(object.metadata.labels?.['propagationpolicy.karmada.io/permanent-id'], undefined, `${path}: claim label removed`);
      t.equal(object.metadata.labels?.['keep'], 'me', `${path}: other labels kept`);
      t.same(Object.keys(object.metadata.annotations ?? {}).filter((a) => a.startsWith('propagationpolicy.karmada.io/')), [], `${path}: claim annotations removed`);
    }
  });
});
