import t from 'tap';
import type { Test } from 'tap';
import { startEtcd } from '../test/helpers/etcd-server.js';
import { manifestFile, startServer } from './harness.js';
import type { KubectlResult, RunningServer } from './harness.js';

/**
 * Real kubectl (1.29 and 1.31) against a real `flotilla serve`, on the embedded store and on etcd.
 * Each case asserts what kubectl prints or its exit code — what a user sees.
 */
const MINORS = ['1.29', '1.31'];

const configMap = (name: string, data: Record<string, string>, labels: Record<string, string> = {}) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
  labels: ${JSON.stringify(labels)}
data: ${JSON.stringify(data)}
`;

const deployment = (name: string, image: string, replicas = 2) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: {app: ${name}}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: main
        image: ${image}
        env:
        - {name: MODE, value: demo}
        ports:
        - containerPort: 80
`;

const widgetCrd = (group: string) => `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.${group}
spec:
  group: ${group}
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}, scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}}
    additionalPrinterColumns:
    - {name: Size, type: string, jsonPath: .spec.size}
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: string, default: medium, enum: [small, medium, large]}
              replicas: {type: integer, minimum: 0}
              extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
          status:
            type: object
            properties:
              replicas: {type: integer}
`;

function ok(t: Test, result: KubectlResult, what: string): string {
  t.equal(result.code, 0, what, { stderr: result.stderr, stdout: result.stdout });
  return result.stdout;
}

function suite(t: Test, backend: string, server: () => RunningServer): void {
  for (const minor of MINORS) {
    t.test(`${backend}, kubectl ${minor}`, async (t) => {
      const s = server();
      const k = (args: string[], options?: Parameters<RunningServer['kubectl']>[2]) => s.kubectl(minor, args, options);
      const ns = `k${minor.replace('.', '')}`;
      ok(t, await k(['create', 'namespace', ns]), 'create namespace');

      t.test('version, api-resources, api-versions', async (t) => {
        const version = JSON.parse(ok(t, await k(['version', '-o', 'json']), 'version')) as { serverVersion: { major: string; minor: string; gitVersion: string } };
        t.equal(version.serverVersion.minor, '31');
        t.match(version.serverVersion.gitVersion, /^v1\.31\.\d+/);
        const resources = ok(t, await k(['api-resources']), 'api-resources');
        t.match(resources, /deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/);
        t.match(resources, /configmaps\s+cm\s+v1\s+true\s+ConfigMap/);
        t.match(resources, /namespaces\s+ns\s+v1\s+false\s+Namespace/);
        const versions = ok(t, await k(['api-versions']), 'api-versions');
        for (const gv of ['apps/v1', 'batch/v1', 'coordination.k8s.io/v1', 'v1']) t.match(versions, new RegExp(`^${gv.replace('.', '\\.')}$`, 'm'));
      });

      t.test('create, get in every output, delete, NotFound', async (t) => {
        const file = await manifestFile(s, `cm-${minor}.yaml`, configMap('settings', { color: 'blue' }, { tier: 'web' }));
        t.match(ok(t, await k(['-n', ns, 'create', '-f', file]), 'create -f'), 'configmap/settings created');
        const again = await k(['-n', ns, 'create', '-f', file]);
        t.equal(again.code, 1, 'creating twice fails');
        t.match(again.stderr, 'Error from server (AlreadyExists): error when creating', 'with AlreadyExists');
        const json = JSON.parse(ok(t, await k(['-n', ns, 'get', 'cm', 'settings', '-o', 'json']), 'get -o json')) as { data: Record<string, string>; metadata: { uid: string; resourceVersion: string; creationTimestamp: string } };
        t.same(json.data, { color: 'blue' });
        t.match(json.metadata.uid, /^[0-9a-f-]{36}$/);
        t.match(json.metadata.resourceVersion, /^\d+$/);
        t.match(json.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        t.match(ok(t, await k(['-n', ns, 'get', 'cm', 'settings', '-o', 'yaml']), 'get -o yaml'), /color: blue/);
        t.equal(ok(t, await k(['-n', ns, 'get', 'cm', '-o', 'name']), 'get -o name').trim(), 'configmap/settings');
        t.equal(ok(t, await k(['-n', ns, 'get', 'cm', 'settings', '-o', 'jsonpath={.data.color}']), 'jsonpath'), 'blue');
        const table = ok(t, await k(['-n', ns, 'get', 'cm']), 'get (table)');
        t.match(table, /^NAME\s+DATA\s+AGE\n/, 'ConfigMap columns');
        t.match(table, /settings\s+1\s+\d+s/);
        t.match(ok(t, await k(['-n', ns, 'get', 'cm', '-l', 'tier=web', '-o', 'name']), 'label selector'), 'configmap/settings');
        t.equal(ok(t, await k(['-n', ns, 'get', 'cm', '-l', 'tier!=web', '-o', 'name']), 'negative label selector').trim(), '');
        t.match(ok(t, await k(['-n', ns, 'get', 'cm', '--field-selector', 'metadata.name=settings', '-o', 'name']), 'field selector'), 'configmap/settings');
        const badField = await k(['-n', ns, 'get', 'cm', '--field-selector', 'spec.nothing=1']);
        t.not(badField.code, 0, 'unknown field selector fails');
        t.match(badField.stderr, /BadRequest|not a known field selector|field label not supported/);
        t.match(ok(t, await k(['-n', ns, 'delete', 'cm', 'settings']), 'delete'), 'configmap "settings" deleted');
        const gone = await k(['-n', ns, 'get', 'cm', 'settings']);
        t.equal(gone.code, 1);
        t.match(gone.stderr, 'Error from server (NotFound): configmaps "settings" not found');
        t.equal((await k(['-n', ns, 'get', 'cm', 'settings', '--ignore-not-found'])).code, 0, '--ignore-not-found keys on the reason');
      });

      t.test('apply (client-side) creates, configures, is a no-op when unchanged', async (t) => {
        const file = await manifestFile(s, `deploy-${minor}.yaml`, deployment('web', 'nginx:1.25'));
        t.match(ok(t, await k(['-n', ns, 'apply', '-f', file]), 'apply creates'), 'deployment.apps/web created');
        const before = ok(t, await k(['-n', ns, 'get', 'deploy', 'web', '-o', 'jsonpath={.metadata.resourceVersion}']), 'rv');
        t.match(ok(t, await k(['-n', ns, 'apply', '-f', file]), 'apply again'), 'deployment.apps/web unchanged');
        t.equal(ok(t, await k(['-n', ns, 'get', 'deploy', 'web', '-o', 'jsonpath={.metadata.resourceVersion}']), 'rv after'), before, 'an unchanged apply writes nothing');
        const changed = await manifestFile(s, `deploy-${minor}-2.yaml`, deployment('web', 'nginx:1.27'));
        t.match(ok(t, await k(['-n', ns, 'apply', '-f', changed]), 'apply a change'), 'deployment.apps/web configured');
        const live = JSON.parse(ok(t, await k(['-n', ns, 'get', 'deploy', 'web', '-o', 'json']), 'get')) as { metadata: { generation: number }; spec: { replicas: number; strategy: { type: string }; template: { spec: { containers: { image: string; env: unknown[]; imagePullPolicy: string }[] } } } };
        t.equal(live.spec.template.spec.containers[0]?.image, 'nginx:1.27', 'strategic merge changed the image');
        t.same(live.spec.template.spec.containers[0]?.env, [{ name: 'MODE', value: 'demo' }], 'and kept the env');
        t.equal(live.metadata.generation, 2, 'a spec change bumps generation');
        t.equal(live.spec.strategy.type, 'RollingUpdate', 'Kubernetes defaults are applied');
        t.equal(live.spec.template.spec.containers[0]?.imagePullPolicy, 'IfNotPresent');
        const table = ok(t, await k(['-n', ns, 'get', 'deploy']), 'get deploy');
        t.match(table, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\n/);
        t.match(table, /web\s+0\/2\s+0\s+0\s+/);
        t.match(ok(t, await k(['-n', ns, 'get', 'deploy', '-o', 'wide']), 'wide'), /CONTAINERS\s+IMAGES\s+SELECTOR[\s\S]*main\s+nginx:1\.27\s+app=web/);
      });

      t.test('apply --server-side: create, no-op, conflict with another manager, --force-conflicts', async (t) => {
        const file = await manifestFile(s, `ssa-${minor}.yaml`, deployment('ssa', 'nginx:1.25'));
        t.match(ok(t, await k(['-n', ns, 'apply', '--server-side', '-f', file]), 'create'), 'deployment.apps/ssa serverside-applied');
        const rv = ok(t, await k(['-n', ns, 'get', 'deploy', 'ssa', '-o', 'jsonpath={.metadata.resourceVersion}']), 'rv');
        ok(t, await k(['-n', ns, 'apply', '--server-side', '-f', file]), 'apply again');
        t.equal(ok(t, await k(['-n', ns, 'get', 'deploy', 'ssa', '-o', 'jsonpath={.metadata.resourceVersion}']), 'rv after'), rv, 'an unchanged apply writes nothing');
        ok(t, await k(['-n', ns, 'scale', 'deploy', 'ssa', '--replicas=5']), 'another manager changes replicas');
        // Same replicas as now (shared ownership) and a new image (still ours): no conflict.
        const changed = await manifestFile(s, `ssa-${minor}-2.yaml`, deployment('ssa', 'nginx:1.27', 5));
        t.match(ok(t, await k(['-n', ns, 'apply', '--server-side', '-f', changed]), 'apply an image change'), 'serverside-applied');
        const conflicting = await manifestFile(s, `ssa-${minor}-3.yaml`, deployment('ssa', 'nginx:1.27', 3));
        const conflict = await k(['-n', ns, 'apply', '--server-side', '-f', conflicting]);
        t.equal(conflict.code, 1, 'replicas now belong to the scaler: conflict');
        t.match(conflict.stderr, /Apply failed with 1 conflict: conflict with "kubectl[^"]*"( using apps\/v1)?: \.spec\.replicas/);
        ok(t, await k(['-n', ns, 'apply', '--server-side', '--force-conflicts', '-f', conflicting]), '--force-conflicts');
        t.equal(ok(t, await k(['-n', ns, 'get', 'deploy', 'ssa', '-o', 'jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image}']), 'state'), '3 nginx:1.27');
      });

      t.test('label, annotate, patch (merge, json, strategic), scale, replace', async (t) => {
        t.match(ok(t, await k(['-n', ns, 'label', 'deploy', 'web', 'team=blue']), 'label'), 'deployment.apps/web labeled');
        t.match(ok(t, await k(['-n', ns, 'annotate', 'deploy', 'web', 'note=hello']), 'annotate'), 'deployment.apps/web annotated');
        t.match(ok(t, await k(['-n', ns, 'patch', 'deploy', 'web', '--type=merge', '-p', '{"metadata":{"labels":{"tier":"front"}}}']), 'merge patch'), 'patched');
        t.match(ok(t, await k(['-n', ns, 'patch', 'deploy', 'web', '--type=json', '-p', '[{"op":"replace","path":"/spec/replicas","value":4}]']), 'json patch'), 'patched');
        t.match(ok(t, await k(['-n', ns, 'patch', 'deploy', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"main","image":"nginx:1.28"}]}}}}']), 'strategic patch'), 'patched');
        const failed = await k(['-n', ns, 'patch', 'deploy', 'web', '--type=json', '-p', '[{"op":"test","path":"/spec/replicas","value":99}]']);
        t.not(failed.code, 0, 'a failing json-patch test op is rejected');
        t.match(ok(t, await k(['-n', ns, 'scale', 'deploy', 'web', '--replicas=3']), 'scale'), 'deployment.apps/web scaled');
        const live = JSON.parse(ok(t, await k(['-n', ns, 'get', 'deploy', 'web', '-o', 'json']), 'get')) as { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: { replicas: number; template: { spec: { containers: { image: string; env: unknown[] }[] } } } };
        t.equal(live.metadata.labels['team'], 'blue');
        t.equal(live.metadata.labels['tier'], 'front');
        t.equal(live.metadata.annotations['note'], 'hello');
        t.equal(live.spec.replicas, 3);
        t.equal(live.spec.template.spec.containers[0]?.image, 'nginx:1.28');
        t.same(live.spec.template.spec.containers[0]?.env, [{ name: 'MODE', value: 'demo' }]);
        const stale = await k(['-n', ns, 'label', 'deploy', 'web', 'x=y', '--resource-version=1']);
        t.equal(stale.code, 1, 'a stale resourceVersion precondition fails');
        t.match(stale.stderr, /Conflict|the object has been modified/);
        const file = await manifestFile(s, `replace-${minor}.yaml`, configMap('swap', { a: '1' }));
        ok(t, await k(['-n', ns, 'create', '-f', file]), 'create for replace');
        const replaced = await manifestFile(s, `replace-${minor}-2.yaml`, configMap('swap', { a: '2' }));
        t.match(ok(t, await k(['-n', ns, 'replace', '-f', replaced]), 'replace'), 'configmap/swap replaced');
        t.equal(ok(t, await k(['-n', ns, 'get', 'cm', 'swap', '-o', 'jsonpath={.data.a}']), 'after replace'), '2');
      });

      t.test('dry-run=server stores nothing; diff reports differences', async (t) => {
        const file = await manifestFile(s, `dry-${minor}.yaml`, configMap('dry', { k: 'v' }));
        t.match(ok(t, await k(['-n', ns, 'create', '-f', file, '--dry-run=server']), 'dry-run create'), 'configmap/dry created (server dry run)');
        t.equal((await k(['-n', ns, 'get', 'cm', 'dry'])).code, 1, 'nothing was stored');
        ok(t, await k(['-n', ns, 'apply', '-f', file]), 'apply');
        t.equal((await k(['-n', ns, 'diff', '-f', file])).code, 0, 'diff of the applied manifest: exit 0');
        const changed = await manifestFile(s, `dry-${minor}-2.yaml`, configMap('dry', { k: 'changed' }));
        const diff = await k(['-n', ns, 'diff', '-f', changed]);
        t.equal(diff.code, 1, 'diff of a change: exit 1');
        t.match(diff.stdout, /-\s+k: v[\s\S]*\+\s+k: changed/);
        t.equal(ok(t, await k(['-n', ns, 'get', 'cm', 'dry', '-o', 'jsonpath={.data.k}']), 'unchanged'), 'v', 'diff changed nothing');
      });

      t.test('edit with KUBE_EDITOR', async (t) => {
        const file = await manifestFile(s, `edit-${minor}.yaml`, configMap('editme', { mood: 'calm' }));
        ok(t, await k(['-n', ns, 'create', '-f', file]), 'create');
        t.match(ok(t, await k(['-n', ns, 'edit', 'cm', 'editme'], { env: { KUBE_EDITOR: 'sed -i s/calm/happy/' } }), 'edit'), 'configmap/editme edited');
        t.equal(ok(t, await k(['-n', ns, 'get', 'cm', 'editme', '-o', 'jsonpath={.data.mood}']), 'after edit'), 'happy');
      });

      t.test('CRD create → custom resource CRUD → CRD delete', async (t) => {
        const group = `${ns}.example.com`;
        const crd = await manifestFile(s, `crd-${minor}.yaml`, widgetCrd(group));
        t.match(ok(t, await k(['apply', '-f', crd]), 'create CRD'), `customresourcedefinition.apiextensions.k8s.io/widgets.${group} created`);
        ok(t, await k(['wait', '--for=condition=established', `crd/widgets.${group}`, '--timeout=10s']), 'established');
        const cr = await manifestFile(s, `cr-${minor}.yaml`, `apiVersion: ${group}/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {replicas: 2, extra: {any: [1, 2]}}\n`);
        t.match(ok(t, await k(['-n', ns, 'apply', '-f', cr]), 'create CR'), `widget.${group}/w1 created`);
        const table = ok(t, await k(['-n', ns, 'get', `widgets.${group}`]), 'get CRs');
        t.match(table, /^NAME\s+SIZE\s+REPLICAS\s+AGE\n/, 'additionalPrinterColumns');
        t.match(table, /w1\s+medium\s+2\s+/, 'schema default applied');
        t.equal(ok(t, await k(['-n', ns, 'get', `widgets.${group}`, 'w1', '-o', 'jsonpath={.spec.extra.any}']), 'preserved'), '[1,2]', 'x-kubernetes-preserve-unknown-fields keeps data');
        const bad = await k(['-n', ns, 'patch', `widgets.${group}`, 'w1', '--type=merge', '-p', '{"spec":{"size":"huge"}}']);
        t.equal(bad.code, 1, 'schema violation rejected');
        t.match(bad.stderr, /spec\.size: Unsupported value: "huge"/);
        const smp = await k(['-n', ns, 'patch', `widgets.${group}`, 'w1', '--type=strategic', '-p', '{"spec":{"size":"small"}}']);
        t.not(smp.code, 0, 'strategic merge patch is not for custom resources (415)');
        t.match(ok(t, await k(['-n', ns, 'scale', `widgets.${group}`, 'w1', '--replicas=4']), 'scale subresource'), 'scaled');
        t.match(ok(t, await k(['-n', ns, 'delete', `widgets.${group}`, 'w1']), 'delete CR'), 'deleted');
        ok(t, await k(['-n', ns, 'apply', '-f', cr]), 're-create CR');
        t.match(ok(t, await k(['delete', 'crd', `widgets.${group}`]), 'delete CRD'), 'deleted');
        const gone = await k(['-n', ns, 'get', `widgets.${group}`]);
        t.not(gone.code, 0, 'the custom resource is no longer served');
        ok(t, await k(['apply', '-f', crd]), 're-create CRD');
        t.match(ok(t, await k(['-n', ns, 'get', `widgets.${group}`, '-o', 'name']), 'list'), /^$/, 'its old custom resources were deleted with it');
        ok(t, await k(['delete', 'crd', `widgets.${group}`]), 'clean up');
      });

      t.test('watch, wait --for=jsonpath and --for=delete', async (t) => {
        const watcher = k(['-n', ns, 'get', 'cm', '-w', '--field-selector', 'metadata.name=watched', '--request-timeout=8s', '-o', 'name'], { timeoutMs: 20_000 });
        await new Promise((resolve) => setTimeout(resolve, 1500));
        const file = await manifestFile(s, `watch-${minor}.yaml`, configMap('watched', { v: '1' }));
        ok(t, await k(['-n', ns, 'create', '-f', file]), 'create while watching');
        ok(t, await k(['-n', ns, 'patch', 'cm', 'watched', '--type=merge', '-p', '{"data":{"v":"2"}}']), 'patch while watching');
        const waited = await k(['-n', ns, 'wait', 'cm/watched', '--for=jsonpath={.data.v}=2', '--timeout=10s']);
        t.equal(waited.code, 0, 'wait --for=jsonpath', { stderr: waited.stderr });
        const deleter = k(['-n', ns, 'wait', 'cm/watched', '--for=delete', '--timeout=15s']);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        ok(t, await k(['-n', ns, 'delete', 'cm', 'watched', '--wait=true']), 'delete --wait');
        t.equal((await deleter).code, 0, 'wait --for=delete returns once it is gone');
        const watched = await watcher;
        t.match(watched.stdout, /configmap\/watched/, 'get -w saw the object');
      });
    });
  }
}

t.test('embedded store', async (t) => {
  const server = await startServer();
  t.teardown(() => server.stop());
  suite(t, 'embedded', () => server);
});

t.test('etcd store', async (t) => {
  const etcd = await startEtcd();
  t.teardown(() => etcd.destroy());
  const server = await startServer({ etcdEndpoint: etcd.endpoint });
  t.teardown(() => server.stop());
  suite(t, 'etcd', () => server);
});
