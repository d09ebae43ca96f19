import t from 'tap';
import { applyStrategicMergePatch, builtinPatchSchema } from '../../src/api/strategic-merge-patch.js';
import type { PatchMeta, PatchSchema } from '../../src/api/strategic-merge-patch.js';
import { throwsApi } from '../helpers/throws-api.js';

const deploymentSchema = builtinPatchSchema('apps/v1', 'Deployment');
const podSchema = builtinPatchSchema('v1', 'Pod');

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', finalizers: ['a.example.com/x', 'b.example.com/y'], labels: { app: 'web' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          {
            name: 'nginx',
            image: 'nginx:1.25',
            env: [
              { name: 'MODE', value: 'prod' },
              { name: 'LOG', value: 'info' },
            ],
            ports: [{ containerPort: 80, protocol: 'TCP' }],
            volumeMounts: [{ name: 'conf', mountPath: '/etc/nginx' }],
          },
        ],
        volumes: [{ name: 'conf', configMap: { name: 'nginx-conf' } }],
        tolerations: [{ key: 'a', operator: 'Exists' }],
      },
    },
  },
  status: { conditions: [{ type: 'Available', status: 'True' }, { type: 'Progressing', status: 'True' }] },
});

type Deployment = ReturnType<typeof deployment>;
const podSpec = (d: unknown) => (d as Deployment).spec.template.spec;
const nginx = (d: unknown) => podSpec(d).containers[0];

/** Every key of the result, recursively; none may be a `$` directive. */
function keys(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keys);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => [k, ...keys(v)]);
}

t.test('deployment patches (realistic kubectl payloads)', async (t) => {
  const cases: { name: string; patch: unknown; check: (d: Deployment) => unknown; expect: unknown }[] = [
    {
      name: 'client-side apply of a new image keeps env and sets last-applied',
      patch: {
        metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"apps/v1","kind":"Deployment"}\n' } },
        spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }], containers: [{ image: 'nginx:1.27', name: 'nginx' }] } } },
      },
      check: (d) => [d.metadata, nginx(d)],
      expect: [
        { ...deployment().metadata, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"apps/v1","kind":"Deployment"}\n' } },
        { ...deployment().spec.template.spec.containers[0], image: 'nginx:1.27' },
      ],
    },
    {
      name: 'removing an env var with $patch: delete (as kubectl apply sends it)',
      patch: { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }], containers: [{ '$setElementOrder/env': [{ name: 'MODE' }], env: [{ $patch: 'delete', name: 'LOG' }], name: 'nginx' }] } } } },
      check: (d) => nginx(d)?.env,
      expect: [{ name: 'MODE', value: 'prod' }],
    },
    {
      name: 'changing one env var merges by name',
      patch: { spec: { template: { spec: { containers: [{ name: 'nginx', env: [{ name: 'LOG', value: 'debug' }] }] } } } },
      check: (d) => nginx(d)?.env,
      expect: [
        { name: 'MODE', value: 'prod' },
        { name: 'LOG', value: 'debug' },
      ],
    },
    {
      name: 'a new list item without $setElementOrder goes first (kube order)',
      patch: { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'busybox' }] } } } },
      check: (d) => podSpec(d).containers.map((c) => c.name),
      expect: ['sidecar', 'nginx'],
    },
    {
      name: '$setElementOrder puts a new item where the manifest has it',
      patch: { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'sidecar' }], containers: [{ name: 'sidecar', image: 'busybox' }] } } } },
      check: (d) => podSpec(d).containers.map((c) => c.name),
      expect: ['nginx', 'sidecar'],
    },
    {
      name: '$setElementOrder reorders without content changes',
      patch: { spec: { template: { spec: { containers: [{ name: 'nginx', '$setElementOrder/env': [{ name: 'LOG' }, { name: 'MODE' }] }] } } } },
      check: (d) => nginx(d)?.env.map((e) => e.name),
      expect: ['LOG', 'MODE'],
    },
    {
      name: 'kubectl apply deleting a container',
      patch: { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }], containers: [{ $patch: 'delete', name: 'sidecar' }] } } } },
      check: (d) => podSpec(d).containers.map((c) => c.name),
      expect: ['nginx'],
    },
    {
      name: 'container ports merge by containerPort, volumeMounts by mountPath',
      patch: { spec: { template: { spec: { containers: [{ name: 'nginx', ports: [{ containerPort: 443 }, { containerPort: 80, name: 'http' }], volumeMounts: [{ mountPath: '/etc/nginx', readOnly: true }] }] } } } },
      check: (d) => [nginx(d)?.ports, nginx(d)?.volumeMounts],
      expect: [
        [{ containerPort: 443 }, { containerPort: 80, protocol: 'TCP', name: 'http' }],
        [{ name: 'conf', mountPath: '/etc/nginx', readOnly: true }],
      ],
    },
    {
      name: '$patch: replace as a list element replaces the list',
      patch: { spec: { template: { spec: { containers: [{ name: 'nginx', env: [{ $patch: 'replace' }, { name: 'ONLY', value: '1' }] }] } } } },
      check: (d) => nginx(d)?.env,
      expect: [{ name: 'ONLY', value: '1' }],
    },
    {
      name: '$patch: replace in a map replaces the map',
      patch: { spec: { template: { metadata: { labels: { $patch: 'replace', app: 'web', v: '2' } } } } },
      check: (d) => d.spec.template.metadata.labels,
      expect: { app: 'web', v: '2' },
    },
    {
      name: '$patch: delete in a map empties it',
      patch: { metadata: { labels: { $patch: 'delete' } } },
      check: (d) => d.metadata.labels,
      expect: {},
    },
    {
      name: '$retainKeys on a retainKeys field switches the strategy type',
      patch: { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
      check: (d) => d.spec.strategy,
      expect: { type: 'Recreate' },
    },
    {
      name: '$retainKeys in a volume switches its source',
      patch: { spec: { template: { spec: { '$setElementOrder/volumes': [{ name: 'conf' }], volumes: [{ $retainKeys: ['emptyDir', 'name'], emptyDir: {}, name: 'conf' }] } } } },
      check: (d) => podSpec(d).volumes,
      expect: [{ name: 'conf', emptyDir: {} }],
    },
    {
      name: 'finalizers: union, new items first',
      patch: { metadata: { finalizers: ['c.example.com/z', 'a.example.com/x'] } },
      check: (d) => d.metadata.finalizers,
      expect: ['c.example.com/z', 'a.example.com/x', 'b.example.com/y'],
    },
    {
      name: 'finalizers: kubectl-style change with $setElementOrder and $deleteFromPrimitiveList',
      patch: { metadata: { '$setElementOrder/finalizers': ['a.example.com/x', 'c.example.com/z'], '$deleteFromPrimitiveList/finalizers': ['b.example.com/y'], finalizers: ['c.example.com/z'] } },
      check: (d) => d.metadata.finalizers,
      expect: ['a.example.com/x', 'c.example.com/z'],
    },
    {
      name: 'finalizers: [] leaves a merge list unchanged, null removes it',
      patch: { metadata: { finalizers: [], labels: null } },
      check: (d) => [d.metadata.finalizers, 'labels' in d.metadata],
      expect: [['a.example.com/x', 'b.example.com/y'], false],
    },
    {
      name: 'tolerations have no merge strategy: replaced',
      patch: { spec: { template: { spec: { tolerations: [{ key: 'b', operator: 'Exists' }] } } } },
      check: (d) => podSpec(d).tolerations,
      expect: [{ key: 'b', operator: 'Exists' }],
    },
    {
      name: 'status conditions merge by type',
      patch: { status: { conditions: [{ type: 'Progressing', status: 'False', reason: 'Timeout' }] } },
      check: (d) => d.status.conditions,
      expect: [
        { type: 'Available', status: 'True' },
        { type: 'Progressing', status: 'False', reason: 'Timeout' },
      ],
    },
    {
      name: 'nulls delete, and are dropped inside new values',
      patch: { spec: { replicas: null, paused: { x: null, y: 1 }, template: { spec: { containers: [{ name: 'nginx', image: null }, { name: 'new', args: null, image: 'i' }] } } } },
      check: (d) => [d.spec.replicas, (d.spec as Record<string, unknown>)['paused'], podSpec(d).containers],
      expect: [undefined, { y: 1 }, [{ name: 'nginx', env: deployment().spec.template.spec.containers[0]?.env, ports: [{ containerPort: 80, protocol: 'TCP' }], volumeMounts: [{ name: 'conf', mountPath: '/etc/nginx' }] }, { name: 'new', image: 'i' }]],
    },
    {
      name: 'kubectl scale-like and label-like patches',
      patch: { spec: { replicas: 5 }, metadata: { labels: { tier: 'front' } } },
      check: (d) => [d.spec.replicas, d.metadata.labels],
      expect: [5, { app: 'web', tier: 'front' }],
    },
  ];
  for (const c of cases) {
    const original = deployment();
    const patch = structuredClone(c.patch);
    const result = applyStrategicMergePatch(original, patch, deploymentSchema) as Deployment;
    t.same(c.check(result), c.expect, c.name);
    t.same(original, deployment(), `${c.name}: original untouched`);
    t.same(patch, c.patch, `${c.name}: patch untouched`);
    t.same(keys(result).filter((k) => k.startsWith('$')), [], `${c.name}: no directive stored`);
  }
});

t.test('server-only items keep their place relative to the patch items', async (t) => {
  const live = { spec: { containers: [{ name: 'a' }, { name: 'x', injected: true }, { name: 'b', image: '1' }] } };
  const patch = { spec: { '$setElementOrder/containers': [{ name: 'a' }, { name: 'b' }], containers: [{ name: 'b', image: '2' }] } };
  t.same(applyStrategicMergePatch(live, patch, podSchema), { spec: { containers: [{ name: 'a' }, { name: 'x', injected: true }, { name: 'b', image: '2' }] } });
  const reorder = { spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }] } };
  t.same(
    (applyStrategicMergePatch(live, reorder, podSchema) as typeof live).spec.containers.map((c) => c.name),
    ['x', 'b', 'a'],
    'a server-only item goes before the patch items it preceded in the live list',
  );
});

t.test('a list the live object lacks is taken from the patch, directives removed', async (t) => {
  const patch = {
    spec: {
      '$setElementOrder/initContainers': [{ name: 'b' }, { name: 'a' }],
      initContainers: [{ name: 'b', image: 'b' }, { $patch: 'delete', name: 'old' }, { name: 'a', image: 'a' }],
      volumes: [{ name: 'v', $retainKeys: ['emptyDir', 'name'], emptyDir: {} }],
    },
  };
  t.same(applyStrategicMergePatch({ spec: {} }, patch, podSchema), {
    spec: { initContainers: [{ name: 'b', image: 'b' }, { name: 'a', image: 'a' }], volumes: [{ name: 'v', emptyDir: {} }] },
  });
});

t.test('built-in patch metadata', async (t) => {
  const cases: { name: string; apiVersion: string; kind: string; live: unknown; patch: unknown; expect: unknown }[] = [
    {
      name: 'Service ports merge by port',
      apiVersion: 'v1',
      kind: 'Service',
      live: { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443, targetPort: 8443 }] } },
      patch: { spec: { ports: [{ port: 443, nodePort: 30443 }] } },
      expect: { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443, targetPort: 8443, nodePort: 30443 }] } },
    },
    {
      name: 'ownerReferences merge by uid',
      apiVersion: 'v1',
      kind: 'ConfigMap',
      live: { metadata: { ownerReferences: [{ uid: '1', name: 'a' }] } },
      patch: { metadata: { ownerReferences: [{ uid: '1', controller: true }] } },
      expect: { metadata: { ownerReferences: [{ uid: '1', name: 'a', controller: true }] } },
    },
    {
      name: 'Pod status conditions by type, podIPs by ip',
      apiVersion: 'v1',
      kind: 'Pod',
      live: { status: { conditions: [{ type: 'Ready', status: 'False' }], podIPs: [{ ip: '10.0.0.1' }] } },
      patch: { status: { conditions: [{ type: 'Ready', status: 'True' }], podIPs: [{ ip: 'fd00::1' }] } },
      expect: { status: { conditions: [{ type: 'Ready', status: 'True' }], podIPs: [{ ip: 'fd00::1' }, { ip: '10.0.0.1' }] } },
    },
    {
      name: 'Pod containers envFrom and resizePolicy are atomic',
      apiVersion: 'v1',
      kind: 'Pod',
      live: { spec: { containers: [{ name: 'c', envFrom: [{ configMapRef: { name: 'a' } }], resizePolicy: [{ resourceName: 'cpu', restartPolicy: 'NotRequired' }] }] } },
      patch: { spec: { containers: [{ name: 'c', envFrom: [{ secretRef: { name: 'b' } }], resizePolicy: [{ resourceName: 'memory', restartPolicy: 'RestartContainer' }] }] } },
      expect: { spec: { containers: [{ name: 'c', envFrom: [{ secretRef: { name: 'b' } }], resizePolicy: [{ resourceName: 'memory', restartPolicy: 'RestartContainer' }] }] } },
    },
    {
      name: 'Pod imagePullSecrets by name, hostAliases by ip',
      apiVersion: 'v1',
      kind: 'Pod',
      live: { spec: { imagePullSecrets: [{ name: 'a' }], hostAliases: [{ ip: '1.2.3.4', hostnames: ['a'] }] } },
      patch: { spec: { imagePullSecrets: [{ name: 'b' }], hostAliases: [{ ip: '1.2.3.4', hostnames: ['b'] }] } },
      expect: { spec: { imagePullSecrets: [{ name: 'b' }, { name: 'a' }], hostAliases: [{ ip: '1.2.3.4', hostnames: ['b'] }] } },
    },
    {
      name: 'Node taints replace, addresses merge by type, podCIDRs union',
      apiVersion: 'v1',
      kind: 'Node',
      live: { spec: { taints: [{ key: 'a', effect: 'NoSchedule' }], podCIDRs: ['10.0.0.0/24'] }, status: { addresses: [{ type: 'InternalIP', address: '10.1.1.1' }, { type: 'Hostname', address: 'n1' }] } },
      patch: { spec: { taints: [{ key: 'b', effect: 'NoExecute' }], podCIDRs: ['fd00::/64'] }, status: { addresses: [{ type: 'InternalIP', address: '10.1.1.2' }] } },
      expect: { spec: { taints: [{ key: 'b', effect: 'NoExecute' }], podCIDRs: ['fd00::/64', '10.0.0.0/24'] }, status: { addresses: [{ type: 'InternalIP', address: '10.1.1.2' }, { type: 'Hostname', address: 'n1' }] } },
    },
    {
      name: 'ServiceAccount secrets by name',
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      live: { secrets: [{ name: 'a' }] },
      patch: { secrets: [{ name: 'a', namespace: 'x' }] },
      expect: { secrets: [{ name: 'a', namespace: 'x' }] },
    },
    {
      name: 'CronJob pod template under spec.jobTemplate.spec.template.spec',
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      live: { spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: '1', env: [{ name: 'A', value: '1' }] }] } } } } } },
      patch: { spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: '2' }] } } } } } },
      expect: { spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: '2', env: [{ name: 'A', value: '1' }] }] } } } } } },
    },
    {
      name: 'StatefulSet volumeClaimTemplates replace',
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      live: { spec: { volumeClaimTemplates: [{ metadata: { name: 'a' } }], template: { spec: { containers: [{ name: 'c', image: '1' }] } } } },
      patch: { spec: { volumeClaimTemplates: [{ metadata: { name: 'b' } }], template: { spec: { containers: [{ name: 'c', image: '2' }] } } } },
      expect: { spec: { volumeClaimTemplates: [{ metadata: { name: 'b' } }], template: { spec: { containers: [{ name: 'c', image: '2' }] } } } },
    },
    {
      name: 'Job status conditions by type',
      apiVersion: 'batch/v1',
      kind: 'Job',
      live: { status: { conditions: [{ type: 'Complete', status: 'False' }] } },
      patch: { status: { conditions: [{ type: 'Complete', status: 'True' }] } },
      expect: { status: { conditions: [{ type: 'Complete', status: 'True' }] } },
    },
    {
      name: 'an unknown kind: lists replace (ObjectMeta still merges)',
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      live: { metadata: { finalizers: ['a'] }, spec: { containers: [{ name: 'a' }] } },
      patch: { metadata: { finalizers: ['b'] }, spec: { containers: [{ name: 'b' }] } },
      expect: { metadata: { finalizers: ['b', 'a'] }, spec: { containers: [{ name: 'b' }] } },
    },
  ];
  for (const c of cases) {
    t.same(applyStrategicMergePatch(c.live, c.patch, builtinPatchSchema(c.apiVersion, c.kind)), c.expect, c.name);
  }
});

t.test('schemas may use listType instead of patchStrategy', async (t) => {
  const meta: Record<string, PatchMeta> = { 'spec.items': { listType: 'map', mergeKey: 'id' }, 'spec.tags': { listType: 'set' }, 'spec.atomic': { listType: 'atomic' } };
  const schema: PatchSchema = { lookup: (path) => meta[path.join('.')] };
  const live = { spec: { items: [{ id: 1, v: 'a' }], tags: ['x'], atomic: [1, 2] } };
  const patch = { spec: { items: [{ id: 1, w: 'b' }], tags: ['y'], atomic: [3] } };
  t.same(applyStrategicMergePatch(live, patch, schema), { spec: { items: [{ id: 1, v: 'a', w: 'b' }], tags: ['y', 'x'], atomic: [3] } });
});

t.test('errors: 400 for bad directives and formats, 422 for lists of lists', async (t) => {
  const live = deployment();
  const containers = (list: unknown) => ({ spec: { template: { spec: { containers: list } } } });
  const cases: { name: string; patch: unknown; code: number; message: RegExp }[] = [
    { name: '$patch: merge in a map', patch: { metadata: { labels: { $patch: 'merge' } } }, code: 400, message: /unknown patch type: "merge" in map/ },
    { name: '$patch: merge in a list', patch: containers([{ $patch: 'merge' }]), code: 400, message: /merging lists cannot yet be specified in the patch/ },
    { name: 'unknown $patch value', patch: containers([{ $patch: 'explode', name: 'nginx' }]), code: 400, message: /unknown patch type: "explode" in list/ },
    { name: 'unknown directive key', patch: { spec: { $foo: 1 } }, code: 400, message: /unknown patch directive "\$foo"/ },
    { name: '$setElementOrder without a field', patch: { spec: { $setElementOrder: [] } }, code: 400, message: /unknown patch directive/ },
    { name: '$retainKeys not a list', patch: { spec: { strategy: { $retainKeys: 'type', type: 'Recreate' } } }, code: 400, message: /invalid patch format of retainKeys/ },
    { name: '$retainKeys missing a patched key', patch: { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: {} } } }, code: 400, message: /invalid patch format of retainKeys/ },
    { name: '$setElementOrder not a list', patch: { metadata: { '$setElementOrder/finalizers': 'x' } }, code: 400, message: /invalid patch format of setElementOrder list/ },
    { name: '$setElementOrder contradicting the patch order', patch: { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'a' }, { name: 'b' }], containers: [{ name: 'b' }, { name: 'a' }] } } } }, code: 400, message: /doesn't match \$setElementOrder list/ },
    { name: '$setElementOrder item without merge key', patch: { spec: { template: { spec: { '$setElementOrder/containers': [{ image: 'x' }] } } } }, code: 400, message: /does not contain declared merge key: name/ },
    { name: '$deleteFromPrimitiveList not a list', patch: { metadata: { '$deleteFromPrimitiveList/finalizers': 'x' } }, code: 400, message: /invalid patch format of primitive list/ },
    { name: 'list element without merge key', patch: containers([{ image: 'x' }]), code: 400, message: /does not contain declared merge key: name/ },
    { name: '$patch: delete without merge key', patch: containers([{ $patch: 'delete' }]), code: 400, message: /does not contain declared merge key: name/ },
    { name: 'mixed element types', patch: { metadata: { finalizers: [1] } }, code: 400, message: /list element types are not identical/ },
    { name: 'list of lists', patch: { metadata: { finalizers: [['x']] } }, code: 422, message: /the server rejected our request/ },
    { name: 'patch is not an object', patch: ['x'], code: 400, message: /cannot unmarshal array/ },
  ];
  for (const c of cases) {
    throwsApi(t, () => applyStrategicMergePatch(live, c.patch, deploymentSchema), c.code, c.message, c.name);
    t.same(live, deployment(), `${c.name}: original untouched`);
  }
});

t.test('a null patch changes nothing', async (t) => {
  t.same(applyStrategicMergePatch(deployment(), null, deploymentSchema), deployment());
});

t.test('__proto__ members are data, not prototypes', async (t) => {
  const result = applyStrategicMergePatch({ metadata: {} }, JSON.parse('{"metadata":{"__proto__":{"x":1}}}'), podSchema) as { metadata: object };
  t.ok(Object.hasOwn(result.metadata, '__proto__'));
  t.equal(Object.getPrototypeOf(result.metadata), Object.prototype);
});
