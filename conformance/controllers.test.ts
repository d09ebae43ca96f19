import t from 'tap';
import type { Test } from 'tap';
import { manifestFile, startServer } from './harness.js';
import type { KubectlResult, RunningServer } from './harness.js';

/**
 * The garbage collector and the namespace controller against a real `flotilla serve`, driven by real
 * kubectl 1.31. The controllers run inside `flotilla serve` as clients of its API, with their own
 * client certificate.
 */
const MINOR = '1.31';
const POLL_LIMIT_MS = 30_000;

function ok(t: Test, result: KubectlResult, what: string): string {
  t.equal(result.code, 0, what, { stderr: result.stderr, stdout: result.stdout });
  return result.stdout;
}

/** Polls `check` every 200 ms until it returns true, for at most 30 s. */
async function eventually(t: Test, what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + POLL_LIMIT_MS;
  for (;;) {
    if (await check()) {
      t.pass(what);
      return;
    }
    if (Date.now() > deadline) {
      t.fail(`${what} (not within ${POLL_LIMIT_MS / 1000} s)`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

interface Meta {
  uid: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  ownerReferences?: { uid: string; name: string; blockOwnerDeletion?: boolean }[];
}

let server: RunningServer;

// `flotilla serve` runs the controllers itself; this suite only talks to it through kubectl.
t.before(async () => {
  server = await startServer();
});

t.teardown(async () => {
  await server?.stop();
});

const k = (args: string[]) => server.kubectl(MINOR, args);

/** metadata of an object, or undefined when it does not exist (NotFound). */
async function meta(t: Test, args: string[]): Promise<Meta | undefined> {
  const result = await k(['get', ...args, '-o', 'json']);
  if (result.code !== 0) {
    if (/NotFound/.test(result.stderr)) return undefined;
    t.fail(`kubectl get ${args.join(' ')}`, { stderr: result.stderr });
    return undefined;
  }
  return (JSON.parse(result.stdout) as { metadata: Meta }).metadata;
}

const configMap = (name: string, namespace: string, extra: { owners?: { name: string; uid: string; kind?: string; apiVersion?: string; blockOwnerDeletion?: boolean }[]; finalizers?: string[] } = {}) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace,
      ...(extra.owners ? { ownerReferences: extra.owners.map((o) => ({ apiVersion: o.apiVersion ?? 'v1', kind: o.kind ?? 'ConfigMap', name: o.name, uid: o.uid, ...(o.blockOwnerDeletion !== undefined ? { blockOwnerDeletion: o.blockOwnerDeletion } : {}) })) } : {}),
      ...(extra.finalizers ? { finalizers: extra.finalizers } : {}),
    },
    data: { key: name },
  });

async function apply(t: Test, name: string, manifest: string): Promise<void> {
  ok(t, await k(['apply', '-f', await manifestFile(server, `${name}.json`, manifest)]), `apply ${name}`);
}

const deployment = (name: string, namespace: string) =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { app: name } },
    spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'nginx:1.27' }] } } },
  });

t.test('kubectl delete namespace: contents deleted, then the namespace', async (t) => {
  const ns = 'doomed';
  ok(t, await k(['create', 'namespace', ns]), 'create namespace');
  ok(t, await k(['-n', ns, 'create', 'configmap', 'one', '--from-literal=a=1']), 'create configmap one');
  ok(t, await k(['-n', ns, 'create', 'configmap', 'two', '--from-literal=b=2']), 'create configmap two');
  await apply(t, 'doomed-deploy', deployment('web', ns));
  // Held by a finalizer: the namespace must wait for it.
  await apply(t, 'doomed-held', configMap('held', ns, { finalizers: ['example.com/hold'] }));

  ok(t, await k(['delete', 'namespace', ns, '--wait=false']), 'kubectl delete namespace');
  const terminating = JSON.parse(ok(t, await k(['get', 'namespace', ns, '-o', 'json']), 'get the namespace')) as { status: { phase: string } };
  t.equal(terminating.status.phase, 'Terminating', 'the namespace is Terminating');

  await eventually(t, 'the deletable content is gone', async () => {
    const left = await k(['-n', ns, 'get', 'configmaps,deployments', '-o', 'name']);
    return left.code === 0 && left.stdout.trim() === 'configmap/held';
  });
  const held = await meta(t, ['-n', ns, 'configmap', 'held']);
  t.ok(held?.deletionTimestamp, 'the held configmap is being deleted');
  t.ok(await meta(t, ['namespace', ns]), 'the namespace waits for it');
  await eventually(t, 'the namespace reports the remaining content', async () => {
    const result = await k(['get', 'namespace', ns, '-o', 'json']);
    if (result.code !== 0) return false;
    const conditions = (JSON.parse(result.stdout) as { status: { conditions?: { type: string; status: string; message: string }[] } }).status.conditions ?? [];
    return conditions.some((c) => c.type === 'NamespaceFinalizersRemaining' && c.status === 'True' && c.message.includes('example.com/hold'));
  });

  ok(t, await k(['-n', ns, 'patch', 'configmap', 'held', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']), 'release the finalizer');
  await eventually(t, 'the namespace is gone', async () => (await meta(t, ['namespace', ns])) === undefined);
  const after = await k(['-n', ns, 'get', 'configmaps,deployments', '-o', 'name']);
  t.equal(after.stdout.trim(), '', 'nothing is left in it');
});

t.test('background deletion: dependents of a deleted owner are collected', async (t) => {
  const ns = 'gc-background';
  ok(t, await k(['create', 'namespace', ns]), 'create namespace');
  await apply(t, 'bg-owner', configMap('owner', ns));
  await apply(t, 'bg-other', configMap('other-owner', ns));
  await apply(t, 'bg-deploy', deployment('app', ns));
  const owner = await meta(t, ['-n', ns, 'configmap', 'owner']);
  const other = await meta(t, ['-n', ns, 'configmap', 'other-owner']);
  const app = await meta(t, ['-n', ns, 'deployment', 'app']);
  if (!owner || !other || !app) return;
  await apply(t, 'bg-dependent', configMap('dependent', ns, { owners: [{ name: 'owner', uid: owner.uid }] }));
  await apply(t, 'bg-shared', configMap('shared', ns, { owners: [{ name: 'owner', uid: owner.uid }, { name: 'other-owner', uid: other.uid }] }));
  await apply(t, 'bg-of-deploy', configMap('of-deployment', ns, { owners: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'app', uid: app.uid }] }));
  // An owner that never existed (a stale uid): the dependent goes at once.
  await apply(t, 'bg-stale', configMap('stale', ns, { owners: [{ name: 'owner', uid: '00000000-0000-0000-0000-000000000000' }] }));

  await eventually(t, 'a dependent of a non-existent owner is collected', async () => (await meta(t, ['-n', ns, 'configmap', 'stale'])) === undefined);
  t.ok(await meta(t, ['-n', ns, 'configmap', 'dependent']), 'dependents of live owners stay');

  ok(t, await k(['-n', ns, 'delete', 'configmap', 'owner', '--timeout=30s']), 'kubectl delete (background by default)');
  await eventually(t, 'the dependent is collected', async () => (await meta(t, ['-n', ns, 'configmap', 'dependent'])) === undefined);
  await eventually(t, 'a dependent with another live owner only loses the dead reference', async () => {
    const shared = await meta(t, ['-n', ns, 'configmap', 'shared']);
    return shared !== undefined && shared.ownerReferences?.length === 1 && shared.ownerReferences[0]?.uid === other.uid;
  });

  ok(t, await k(['-n', ns, 'delete', 'deployment', 'app', '--timeout=30s']), 'delete the deployment');
  await eventually(t, 'a dependent of another kind is collected', async () => (await meta(t, ['-n', ns, 'configmap', 'of-deployment'])) === undefined);
  t.ok(await meta(t, ['-n', ns, 'configmap', 'other-owner']), 'unrelated objects stay');
});

t.test('orphan deletion: the owner goes, dependents stay without the reference', async (t) => {
  const ns = 'gc-orphan';
  ok(t, await k(['create', 'namespace', ns]), 'create namespace');
  await apply(t, 'orphan-owner', configMap('owner', ns));
  const owner = await meta(t, ['-n', ns, 'configmap', 'owner']);
  if (!owner) return;
  await apply(t, 'orphan-dependent-1', configMap('dependent-1', ns, { owners: [{ name: 'owner', uid: owner.uid }] }));
  await apply(t, 'orphan-dependent-2', configMap('dependent-2', ns, { owners: [{ name: 'owner', uid: owner.uid, blockOwnerDeletion: true }] }));

  ok(t, await k(['-n', ns, 'delete', 'configmap', 'owner', '--cascade=orphan', '--timeout=30s']), 'kubectl delete --cascade=orphan (waits for the owner to go)');
  await eventually(t, 'the owner is gone', async () => (await meta(t, ['-n', ns, 'configmap', 'owner'])) === undefined);
  for (const name of ['dependent-1', 'dependent-2']) {
    const dependent = await meta(t, ['-n', ns, 'configmap', name]);
    t.ok(dependent, `${name} is kept`);
    t.notOk(dependent?.ownerReferences?.length, `${name} has no ownerReferences left`);
    t.notOk(dependent?.deletionTimestamp, `${name} is not being deleted`);
  }
  // And stays so: nothing collects it later.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  t.ok(await meta(t, ['-n', ns, 'configmap', 'dependent-1']), 'still there a second later');
});

t.test('foreground deletion: the owner waits for blocking dependents', async (t) => {
  const ns = 'gc-foreground';
  ok(t, await k(['create', 'namespace', ns]), 'create namespace');
  await apply(t, 'fg-owner', configMap('owner', ns));
  const owner = await meta(t, ['-n', ns, 'configmap', 'owner']);
  if (!owner) return;
  // The blocking dependent holds a finalizer, so the owner's wait can be seen.
  await apply(t, 'fg-blocking', configMap('blocking', ns, { owners: [{ name: 'owner', uid: owner.uid, blockOwnerDeletion: true }], finalizers: ['example.com/hold'] }));
  await apply(t, 'fg-plain', configMap('plain', ns, { owners: [{ name: 'owner', uid: owner.uid }] }));
  const blocking = await meta(t, ['-n', ns, 'configmap', 'blocking']);
  if (!blocking) return;
  // A second level: a dependent of the blocking dependent, blocking it in turn.
  await apply(t, 'fg-grandchild', configMap('grandchild', ns, { owners: [{ name: 'blocking', uid: blocking.uid, blockOwnerDeletion: true }] }));

  ok(t, await k(['-n', ns, 'delete', 'configmap', 'owner', '--cascade=foreground', '--wait=false']), 'kubectl delete --cascade=foreground');
  const deleting = await meta(t, ['-n', ns, 'configmap', 'owner']);
  t.ok(deleting?.deletionTimestamp, 'the owner first shows a deletionTimestamp');
  t.ok(deleting?.finalizers?.includes('foregroundDeletion'), 'with the foregroundDeletion finalizer');

  await eventually(t, 'the non-blocking dependent is deleted', async () => (await meta(t, ['-n', ns, 'configmap', 'plain'])) === undefined);
  await eventually(t, 'the grandchild is deleted', async () => (await meta(t, ['-n', ns, 'configmap', 'grandchild'])) === undefined);
  await eventually(t, 'the blocking dependent is being deleted', async () => Boolean((await meta(t, ['-n', ns, 'configmap', 'blocking']))?.deletionTimestamp));
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  t.ok(await meta(t, ['-n', ns, 'configmap', 'owner']), 'the owner still waits for its blocking dependent');

  // blocking had a dependent of its own, so it was deleted in the foreground too; with the
  // grandchild gone, only the test's hold is left on it.
  await eventually(t, 'the blocking dependent finished its own foreground deletion', async () => {
    const finalizers = (await meta(t, ['-n', ns, 'configmap', 'blocking']))?.finalizers ?? [];
    return finalizers.length === 1 && finalizers[0] === 'example.com/hold';
  });
  ok(t, await k(['-n', ns, 'patch', 'configmap', 'blocking', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']), 'release the hold');
  await eventually(t, 'the blocking dependent is gone', async () => (await meta(t, ['-n', ns, 'configmap', 'blocking'])) === undefined);
  await eventually(t, 'then the owner is gone', async () => (await meta(t, ['-n', ns, 'configmap', 'owner'])) === undefined);
});

t.test('custom resources: collected as dependents and honoured as owners (re-discovery)', async (t) => {
  const ns = 'gc-crd';
  ok(t, await k(['create', 'namespace', ns]), 'create namespace');
  await apply(t, 'crd-widgets', JSON.stringify({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
      scope: 'Namespaced',
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  }));
  await eventually(t, 'the CRD is served', async () => (await k(['-n', ns, 'get', 'widgets'])).code === 0);

  await apply(t, 'crd-cm-owner', configMap('widget-owner', ns));
  const cmOwner = await meta(t, ['-n', ns, 'configmap', 'widget-owner']);
  if (!cmOwner) return;
  const widget = (name: string, owners: { apiVersion: string; kind: string; name: string; uid: string }[] = []) =>
    JSON.stringify({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name, namespace: ns, ...(owners.length ? { ownerReferences: owners } : {}) }, spec: { size: 1 } });
  await apply(t, 'crd-owned-widget', widget('owned', [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'widget-owner', uid: cmOwner.uid }]));
  await apply(t, 'crd-owner-widget', widget('owner'));
  const widgetOwner = await meta(t, ['-n', ns, 'widget', 'owner']);
  if (!widgetOwner) return;
  await apply(t, 'crd-cm-of-widget', configMap('of-widget', ns, { owners: [{ apiVersion: 'example.com/v1', kind: 'Widget', name: 'owner', uid: widgetOwner.uid }] }));
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  t.ok(await meta(t, ['-n', ns, 'configmap', 'of-widget']), 'a configmap owned by a live custom resource stays');

  ok(t, await k(['-n', ns, 'delete', 'configmap', 'widget-owner', '--timeout=30s']), 'delete the configmap owning a widget');
  await eventually(t, 'the owned custom resource is collected', async () => (await meta(t, ['-n', ns, 'widget', 'owned'])) === undefined);
  ok(t, await k(['-n', ns, 'delete', 'widget', 'owner', '--timeout=30s']), 'delete the owning widget');
  await eventually(t, 'the configmap it owned is collected', async () => (await meta(t, ['-n', ns, 'configmap', 'of-widget'])) === undefined);
});
