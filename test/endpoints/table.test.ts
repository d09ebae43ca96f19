import t from 'tap';
import type { KubeObject } from '../../src/api/object.js';
import { BUILTIN_RESOURCES } from '../../src/registry/builtin-resources.js';
import type { PrinterColumn, ResourceDefinition } from '../../src/registry/resource.js';
import { humanDuration, translateTimestampSince } from '../../src/endpoints/table/age.js';
import { cellValue, evaluate, parseJsonPath } from '../../src/endpoints/table/jsonpath.js';
import { printerFor } from '../../src/endpoints/table/printers.js';
import { buildTable } from '../../src/endpoints/table/table.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const NOW = Date.parse('2024-06-01T12:00:00Z');
/** The RFC 3339 timestamp `ms` before NOW. */
const ago = (ms: number) => `${new Date(NOW - ms).toISOString().slice(0, 19)}Z`;
const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: 'default', creationTimestamp: ago(5 * M), ...extra });

function def(group: string, kind: string): ResourceDefinition {
  const found = BUILTIN_RESOURCES.find((d) => d.group === group && d.kind === kind);
  if (!found) throw new Error(`no built-in ${group}/${kind}`);
  return found;
}

function row(d: ResourceDefinition, object: KubeObject): unknown[] {
  return printerFor(d).cells(object, NOW);
}

t.test('humanDuration follows kube boundaries', async (t) => {
  const cases: [number, string][] = [
    [-3 * S, '<invalid>'],
    [-2 * S, '<invalid>'],
    [-1999, '0s'], // a second of skew is forgiven
    [-1 * S, '0s'],
    [0, '0s'],
    [999, '0s'],
    [45 * S, '45s'],
    [119 * S, '119s'],
    [2 * M, '2m'],
    [5 * M + 30 * S, '5m30s'],
    [9 * M + 59 * S, '9m59s'],
    [10 * M + 30 * S, '10m'],
    [179 * M, '179m'],
    [3 * H, '3h'],
    [3 * H + 25 * M, '3h25m'],
    [7 * H + 59 * M, '7h59m'],
    [8 * H + 30 * M, '8h'],
    [47 * H, '47h'],
    [2 * D, '2d'],
    [3 * D + 4 * H, '3d4h'],
    [7 * D + 23 * H, '7d23h'],
    [8 * D + 5 * H, '8d'],
    [729 * D, '729d'],
    [730 * D, '2y'],
    [830 * D, '2y100d'],
    [8 * 365 * D - 1, '7y364d'],
    [8 * 365 * D, '8y'],
    [20 * 365 * D, '20y'],
  ];
  for (const [ms, want] of cases) t.equal(humanDuration(ms), want, `${ms}ms`);
});

t.test('translateTimestampSince', async (t) => {
  t.equal(translateTimestampSince(undefined, NOW), '<unknown>');
  t.equal(translateTimestampSince('', NOW), '<unknown>');
  t.equal(translateTimestampSince('0001-01-01T00:00:00Z', NOW), '<unknown>');
  t.equal(translateTimestampSince('yesterday', NOW), '<invalid>');
  t.equal(translateTimestampSince(ago(90 * S), NOW), '90s');
  t.equal(translateTimestampSince('2024-06-01T11:00:00.123456Z', NOW), '59m');
  t.equal(translateTimestampSince('2024-06-01T13:00:30+02:00', NOW), '59m');
  t.equal(translateTimestampSince(ago(-10 * S), NOW), '<invalid>', 'in the future');
});

t.test('jsonpath', async (t) => {
  const pod = {
    metadata: { name: 'p', labels: { 'app.kubernetes.io/name': 'web', tier: 'front' } },
    spec: { containers: [{ name: 'a', image: 'nginx', ports: [{ containerPort: 80 }] }, { name: 'b', image: 'redis' }] },
    status: {
      conditions: [
        { type: 'Initialized', status: 'True' },
        { type: 'Ready', status: 'False', lastTransitionTime: '2024-06-01T11:00:00Z' },
      ],
      replicas: 3,
      ratio: 0.5,
      nothing: null,
    },
  };
  const cases: [string, unknown[]][] = [
    ['.metadata.name', ['p']],
    ['{.metadata.name}', ['p']],
    ['$.metadata.name', ['p']],
    ['.spec.containers[0].image', ['nginx']],
    ['.spec.containers[-1].name', ['b']],
    ['.spec.containers[*].name', ['a', 'b']],
    ['.spec.containers[0:1].name', ['a']],
    ['.spec.containers[5].name', []], // out of range is an error in kube: no value
    ['.status.conditions[?(@.type=="Ready")].status', ['False']],
    ["{.status.conditions[?(@.type == 'Initialized')].status}", ['True']],
    ['.status.conditions[?(@.status!="True")].type', ['Ready']],
    ['.status.conditions[?(@.lastTransitionTime)].type', ['Ready']],
    ["['metadata']['labels']['app.kubernetes.io/name']", ['web']],
    ['.metadata.labels.app\\.kubernetes\\.io/name', ['web']],
    ['.metadata.labels.*', ['web', 'front']],
    ['..image', ['nginx', 'redis']],
    ['.status.missing.deeper', []],
    ['.status.nothing', [null]],
    ['.spec.containers.name', []], // fields do not apply to arrays
  ];
  for (const [path, want] of cases) t.same(evaluate(path, pod), want, path);
  t.throws(() => parseJsonPath('.a[?(@.x=='), 'syntax errors throw');
  t.throws(() => parseJsonPath('.a]'));

  const numbers = { items: [{ n: 1 }, { n: 5 }, { n: 10 }] };
  t.same(evaluate('.items[?(@.n > 2)].n', numbers), [5, 10]);
  t.same(evaluate('.items[?(@.n <= 5)].n', numbers), [1, 5]);
  t.same(evaluate('.items[?(@.n == "5")].n', numbers), [], 'comparing a number with a string fails: no value');

  t.test('cellValue', async (t) => {
    const v = (path: string, type: PrinterColumn['type']) => cellValue(evaluate(path, pod), type);
    t.equal(v('.status.replicas', 'integer'), 3);
    t.equal(v('.status.ratio', 'integer'), 0, 'truncated');
    t.equal(v('.status.ratio', 'number'), 0.5);
    t.equal(v('.status.replicas', 'string'), '3');
    t.equal(v('.metadata.name', 'integer'), null, 'wrong type');
    t.equal(v('.status.missing', 'string'), null);
    t.equal(v('.status.nothing', 'string'), '<no value>');
    t.equal(v('.status.nothing', 'integer'), null);
    t.equal(v('.spec.containers[*].name', 'string'), 'a', 'first match only');
    t.equal(v('.metadata.labels', 'string'), '{"app.kubernetes.io/name":"web","tier":"front"}');
    t.equal(v('.spec.containers[0].ports', 'string'), '[{"containerPort":80}]');
    t.equal(v('.status.conditions[1].lastTransitionTime', 'date'), '2024-06-01T11:00:00Z');
    t.equal(cellValue([true], 'boolean'), true);
    t.equal(cellValue(['true'], 'boolean'), null);
    t.equal(cellValue([{ b: 1, a: '<x>' }], 'string'), '{"a":"\\u003cx\\u003e","b":1}', 'Go JSON: sorted keys, HTML escaped');
    t.equal(cellValue([0.00001], 'string'), '1e-05', 'Go float formatting');
  });
});

t.test('built-in printers', async (t) => {
  type Case = { group: string; kind: string; object: KubeObject; columns: string[]; wide: string[]; cells: unknown[] };
  const cases: Case[] = [
    {
      group: '',
      kind: 'Namespace',
      object: { metadata: meta('team-a'), status: { phase: 'Terminating' } },
      columns: ['Name', 'Status', 'Age'],
      wide: [],
      cells: ['team-a', 'Terminating', '5m'],
    },
    {
      group: '',
      kind: 'ConfigMap',
      object: { metadata: meta('cfg'), data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } },
      columns: ['Name', 'Data', 'Age'],
      wide: [],
      cells: ['cfg', 3, '5m'],
    },
    {
      group: '',
      kind: 'Secret',
      object: { metadata: meta('tls'), type: 'kubernetes.io/tls', data: { 'tls.crt': 'x', 'tls.key': 'y' }, stringData: { 'tls.key': 'z', 'ca.crt': 'w' } },
      columns: ['Name', 'Type', 'Data', 'Age'],
      wide: [],
      cells: ['tls', 'kubernetes.io/tls', 3, '5m'],
    },
    {
      group: '',
      kind: 'ServiceAccount',
      object: { metadata: meta('default') },
      columns: ['Name', 'Secrets', 'Age'],
      wide: [],
      cells: ['default', 0, '5m'],
    },
    {
      group: '',
      kind: 'Service',
      object: {
        metadata: meta('web'),
        spec: { type: 'NodePort', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }], selector: { tier: 'web', app: 'shop' } },
      },
      columns: ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector'],
      wide: ['Selector'],
      cells: ['web', 'NodePort', '10.96.0.10', '<none>', '80:30080/TCP,53/UDP', '5m', 'app=shop,tier=web'],
    },
    {
      group: '',
      kind: 'Endpoints',
      object: {
        metadata: meta('web'),
        subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }, { ip: 'fd00::3' }, { ip: '10.0.0.4' }], ports: [{ port: 8080 }] }],
      },
      columns: ['Name', 'Endpoints', 'Age'],
      wide: [],
      cells: ['web', '10.0.0.1:8080,10.0.0.2:8080,[fd00::3]:8080 + 1 more...', '5m'],
    },
    {
      group: '',
      kind: 'Node',
      object: {
        metadata: meta('node-1', { namespace: undefined, labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'edge' } }),
        spec: { unschedulable: true },
        status: {
          conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }],
          addresses: [{ type: 'Hostname', address: 'node-1' }, { type: 'InternalIP', address: '172.18.0.2' }],
          nodeInfo: { kubeletVersion: 'v1.31.0', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0', containerRuntimeVersion: 'containerd://1.7.18' },
        },
      },
      columns: ['Name', 'Status', 'Roles', 'Age', 'Version', 'Internal-IP', 'External-IP', 'OS-Image', 'Kernel-Version', 'Container-Runtime'],
      wide: ['Internal-IP', 'External-IP', 'OS-Image', 'Kernel-Version', 'Container-Runtime'],
      cells: ['node-1', 'Ready,SchedulingDisabled', 'control-plane,edge', '5m', 'v1.31.0', '172.18.0.2', '<none>', 'Debian GNU/Linux 12 (bookworm)', '6.1.0', 'containerd://1.7.18'],
    },
    {
      group: '',
      kind: 'Pod',
      object: {
        metadata: meta('web-0'),
        spec: { nodeName: 'node-1', containers: [{ name: 'web' }, { name: 'log' }], readinessGates: [{ conditionType: 'example.com/lb' }] },
        status: {
          phase: 'Running',
          podIP: '10.244.0.5',
          conditions: [{ type: 'Ready', status: 'True' }, { type: 'example.com/lb', status: 'True' }],
          containerStatuses: [
            { name: 'web', ready: true, restartCount: 2, state: { running: {} }, lastState: { terminated: { exitCode: 1, finishedAt: ago(3 * M) } } },
            { name: 'log', ready: true, restartCount: 0, state: { running: {} } },
          ],
        },
      },
      columns: ['Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP', 'Node', 'Nominated Node', 'Readiness Gates'],
      wide: ['IP', 'Node', 'Nominated Node', 'Readiness Gates'],
      cells: ['web-0', '2/2', 'Running', '2 (3m ago)', '5m', '10.244.0.5', 'node-1', '<none>', '1/1'],
    },
    {
      group: '',
      kind: 'Event',
      object: {
        metadata: meta('web-0.17d'),
        involvedObject: { kind: 'Pod', name: 'web-0', fieldPath: 'spec.containers{web}' },
        reason: 'BackOff',
        type: 'Warning',
        message: 'Back-off restarting failed container\n',
        source: { component: 'kubelet', host: 'node-1' },
        firstTimestamp: ago(10 * M),
        lastTimestamp: ago(30 * S),
        count: 7,
      },
      columns: ['Last Seen', 'Type', 'Reason', 'Object', 'Subobject', 'Source', 'Message', 'First Seen', 'Count', 'Name'],
      wide: ['Subobject', 'Source', 'First Seen', 'Count', 'Name'],
      cells: ['30s', 'Warning', 'BackOff', 'pod/web-0', 'spec.containers{web}', 'kubelet, node-1', 'Back-off restarting failed container', '10m', 7, 'web-0.17d'],
    },
    {
      group: 'events.k8s.io',
      kind: 'Event',
      object: {
        metadata: meta('web.17e'),
        regarding: { kind: 'Deployment', name: 'web' },
        reason: 'ScalingReplicaSet',
        type: 'Normal',
        note: 'Scaled up replica set web-5d4 to 3',
        eventTime: '2024-06-01T11:58:00.000000Z',
        reportingController: 'deployment-controller',
        series: { count: 4, lastObservedTime: '2024-06-01T11:59:30.000000Z' },
      },
      columns: ['Last Seen', 'Type', 'Reason', 'Object', 'Subobject', 'Source', 'Message', 'First Seen', 'Count', 'Name'],
      wide: ['Subobject', 'Source', 'First Seen', 'Count', 'Name'],
      cells: ['30s', 'Normal', 'ScalingReplicaSet', 'deployment/web', '', 'deployment-controller', 'Scaled up replica set web-5d4 to 3', '2m', 4, 'web.17e'],
    },
    {
      group: 'apps',
      kind: 'Deployment',
      object: {
        metadata: meta('web'),
        spec: { replicas: 3, selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'canary'] }] }, template: { spec: { containers: [{ name: 'web', image: 'nginx:1.27' }, { name: 'log', image: 'fluent-bit' }] } } },
        status: { replicas: 3, readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
      },
      columns: ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers', 'Images', 'Selector'],
      wide: ['Containers', 'Images', 'Selector'],
      cells: ['web', '2/3', 3, 2, '5m', 'web,log', 'nginx:1.27,fluent-bit', 'app=web,env in (canary,prod)'],
    },
    {
      group: 'apps',
      kind: 'ReplicaSet',
      object: {
        metadata: meta('web-5d4'),
        spec: { replicas: 3, selector: { matchLabels: { app: 'web', 'pod-template-hash': '5d4' } }, template: { spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } },
        status: { replicas: 3, readyReplicas: 1 },
      },
      columns: ['Name', 'Desired', 'Current', 'Ready', 'Age', 'Containers', 'Images', 'Selector'],
      wide: ['Containers', 'Images', 'Selector'],
      cells: ['web-5d4', 3, 3, 1, '5m', 'web', 'nginx:1.27', 'app=web,pod-template-hash=5d4'],
    },
    {
      group: 'apps',
      kind: 'StatefulSet',
      object: { metadata: meta('db'), spec: { replicas: 2, template: { spec: { containers: [{ name: 'pg', image: 'postgres:16' }] } } }, status: { readyReplicas: 2 } },
      columns: ['Name', 'Ready', 'Age', 'Containers', 'Images'],
      wide: ['Containers', 'Images'],
      cells: ['db', '2/2', '5m', 'pg', 'postgres:16'],
    },
    {
      group: 'apps',
      kind: 'DaemonSet',
      object: {
        metadata: meta('agent'),
        spec: { selector: { matchExpressions: [{ key: 'app', operator: 'Exists' }, { key: 'legacy', operator: 'DoesNotExist' }] }, template: { spec: { nodeSelector: { 'kubernetes.io/os': 'linux' }, containers: [{ name: 'agent', image: 'agent:1' }] } } },
        status: { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3, numberAvailable: 2 },
      },
      columns: ['Name', 'Desired', 'Current', 'Ready', 'Up-to-date', 'Available', 'Node Selector', 'Age', 'Containers', 'Images', 'Selector'],
      wide: ['Containers', 'Images', 'Selector'],
      cells: ['agent', 3, 3, 2, 3, 2, 'kubernetes.io/os=linux', '5m', 'agent', 'agent:1', 'app,!legacy'],
    },
    {
      group: 'batch',
      kind: 'Job',
      object: {
        metadata: meta('migrate'),
        spec: { completions: 1, parallelism: 1, selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u1' } }, template: { spec: { containers: [{ name: 'm', image: 'migrate:2' }] } } },
        status: { succeeded: 1, startTime: ago(5 * M), completionTime: ago(4 * M - 12 * S), conditions: [{ type: 'SuccessCriteriaMet', status: 'True' }, { type: 'Complete', status: 'True' }] },
      },
      columns: ['Name', 'Status', 'Completions', 'Duration', 'Age', 'Containers', 'Images', 'Selector'],
      wide: ['Containers', 'Images', 'Selector'],
      cells: ['migrate', 'Complete', '1/1', '72s', '5m', 'm', 'migrate:2', 'batch.kubernetes.io/controller-uid=u1'],
    },
    {
      group: 'batch',
      kind: 'CronJob',
      object: {
        metadata: meta('nightly'),
        spec: { schedule: '0 3 * * *', timeZone: 'Etc/UTC', suspend: false, jobTemplate: { spec: { template: { spec: { containers: [{ name: 'backup', image: 'backup:1' }] } } } } },
        status: { active: [{ name: 'nightly-1' }], lastScheduleTime: ago(2 * H) },
      },
      columns: ['Name', 'Schedule', 'Timezone', 'Suspend', 'Active', 'Last Schedule', 'Age', 'Containers', 'Images', 'Selector'],
      wide: ['Containers', 'Images', 'Selector'],
      cells: ['nightly', '0 3 * * *', 'Etc/UTC', 'False', 1, '120m', '5m', 'backup', 'backup:1', '<none>'],
    },
    {
      group: 'coordination.k8s.io',
      kind: 'Lease',
      object: { metadata: meta('kube-scheduler'), spec: { holderIdentity: 'cp-1_abc' } },
      columns: ['Name', 'Holder', 'Age'],
      wide: [],
      cells: ['kube-scheduler', 'cp-1_abc', '5m'],
    },
    {
      group: 'apiextensions.k8s.io',
      kind: 'CustomResourceDefinition',
      object: { metadata: { name: 'clusters.cluster.karmada.io', creationTimestamp: '2024-05-01T08:00:00Z' } },
      columns: ['Name', 'Created At'],
      wide: [],
      cells: ['clusters.cluster.karmada.io', '2024-05-01T08:00:00Z'],
    },
  ];
  for (const c of cases) {
    const printer = printerFor(def(c.group, c.kind));
    t.test(`${c.group || 'core'}/${c.kind}`, async (t) => {
      t.same(printer.columns.map((col) => col.name), c.columns, 'columns');
      t.same(printer.columns.filter((col) => col.priority > 0).map((col) => col.name), c.wide, 'wide-only columns');
      t.same(printer.cells(c.object, NOW), c.cells, 'cells');
      t.equal(printer.cells(c.object, NOW).length, printer.columns.length, 'a cell per column');
      for (const col of printer.columns) t.ok(col.description.length > 0, `${col.name} is described`);
    });
  }
});

t.test('service external IPs and defaults', async (t) => {
  const svc = def('', 'Service');
  const cells = (spec: Record<string, unknown>, status: Record<string, unknown> = {}) => row(svc, { metadata: meta('s'), spec, status });
  t.same(cells({ type: 'LoadBalancer', clusterIPs: ['10.96.1.1'], ports: [{ port: 443 }] }).slice(1, 5), ['LoadBalancer', '10.96.1.1', '<pending>', '443/TCP']);
  t.equal(cells({ type: 'LoadBalancer' }, { loadBalancer: { ingress: [{ hostname: 'lb.example.com' }, { ip: '1.2.3.4' }] } })[3], '1.2.3.4,lb.example.com');
  t.equal(cells({ type: 'LoadBalancer', externalIPs: ['5.6.7.8'] }, { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } })[3], '1.2.3.4,5.6.7.8');
  t.same(cells({ type: 'ExternalName', externalName: 'db.example.com' }).slice(1, 5), ['ExternalName', '<none>', 'db.example.com', '<none>']);
  t.same(cells({ clusterIP: 'None' }).slice(1, 3), ['ClusterIP', 'None'], 'headless; type defaults to ClusterIP');
  t.equal(cells({})[6], '<none>', 'no selector');
});

t.test('pod status', async (t) => {
  const pod = def('', 'Pod');
  const status = (spec: Record<string, unknown>, st: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const cells = row(pod, { metadata: meta('p', extra), spec: { containers: [{ name: 'c' }], ...spec }, status: st });
    return [cells[1], cells[2], cells[3]];
  };
  const waiting = (reason: string) => ({ name: 'c', ready: false, restartCount: 0, state: { waiting: { reason } } });
  const cases: [string, unknown[], ReturnType<typeof status>][] = [
    ['pending, unscheduled', [{}, { phase: 'Pending' }], ['0/1', 'Pending', '0']],
    ['scheduling gated', [{}, { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] }], ['0/1', 'SchedulingGated', '0']],
    ['container creating', [{}, { phase: 'Pending', containerStatuses: [waiting('ContainerCreating')] }], ['0/1', 'ContainerCreating', '0']],
    ['image pull backoff', [{}, { phase: 'Pending', containerStatuses: [waiting('ImagePullBackOff')] }], ['0/1', 'ImagePullBackOff', '0']],
    [
      'crash loop',
      [{}, { phase: 'Running', containerStatuses: [{ ...waiting('CrashLoopBackOff'), restartCount: 4, lastState: { terminated: { exitCode: 1, finishedAt: ago(40 * S) } } }] }],
      ['0/1', 'CrashLoopBackOff', '4 (40s ago)'],
    ],
    ['running but not ready', [{}, { phase: 'Running', containerStatuses: [{ name: 'c', ready: false, state: { running: {} } }] }], ['0/1', 'Running', '0']],
    ['completed', [{}, { phase: 'Succeeded', containerStatuses: [{ name: 'c', ready: false, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] }], ['0/1', 'Completed', '0']],
    ['error', [{}, { phase: 'Failed', containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 2, reason: 'Error' } } }] }], ['0/1', 'Error', '0']],
    ['signal without reason', [{}, { phase: 'Failed', containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 137, signal: 9 } } }] }], ['0/1', 'Signal:9', '0']],
    ['exit code without reason', [{}, { phase: 'Failed', containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 3 } } }] }], ['0/1', 'ExitCode:3', '0']],
    ['evicted (status.reason)', [{}, { phase: 'Failed', reason: 'Evicted' }], ['0/1', 'Evicted', '0']],
    [
      'completed container beside a running one',
      [{ containers: [{ name: 'a' }, { name: 'b' }] }, { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'a', ready: true, state: { running: {} } }, { name: 'b', state: { terminated: { exitCode: 0, reason: 'Completed' } } }] }],
      ['1/2', 'Running', '0'],
    ],
    [
      'completed beside running, pod not ready',
      [{ containers: [{ name: 'a' }, { name: 'b' }] }, { phase: 'Running', containerStatuses: [{ name: 'a', ready: true, state: { running: {} } }, { name: 'b', state: { terminated: { exitCode: 0, reason: 'Completed' } } }] }],
      ['1/2', 'NotReady', '0'],
    ],
    [
      'init container running',
      [{ initContainers: [{ name: 'i1' }, { name: 'i2' }] }, { phase: 'Pending', initContainerStatuses: [{ name: 'i1', state: { terminated: { exitCode: 0 } } }, { name: 'i2', state: { running: {} } }], containerStatuses: [waiting('PodInitializing')] }],
      ['0/1', 'Init:1/2', '0'],
    ],
    [
      'init container crash loop',
      [{ initContainers: [{ name: 'i1' }] }, { phase: 'Pending', initContainerStatuses: [{ name: 'i1', restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } } }] }],
      ['0/1', 'Init:CrashLoopBackOff', '3'],
    ],
    [
      'init container failed',
      [{ initContainers: [{ name: 'i1' }] }, { phase: 'Pending', initContainerStatuses: [{ name: 'i1', state: { terminated: { exitCode: 1, reason: 'Error' } } }] }],
      ['0/1', 'Init:Error', '0'],
    ],
    [
      'sidecar counts as a container',
      [{ initContainers: [{ name: 'proxy', restartPolicy: 'Always' }] }, {
        phase: 'Running',
        conditions: [{ type: 'Initialized', status: 'True' }],
        initContainerStatuses: [{ name: 'proxy', started: true, ready: true, restartCount: 1, state: { running: {} } }],
        containerStatuses: [{ name: 'c', ready: true, state: { running: {} } }],
      }],
      ['2/2', 'Running', '1'],
    ],
  ];
  for (const [title, [spec, st], want] of cases) t.same(status(spec as Record<string, unknown>, st as Record<string, unknown>), want, title);

  const deleting = { deletionTimestamp: ago(0) };
  t.equal(status({}, { phase: 'Running' }, deleting)[1], 'Terminating');
  t.equal(status({}, { phase: 'Succeeded' }, deleting)[1], 'Succeeded', 'finished pods are not Terminating');
  t.equal(status({}, { phase: 'Running', reason: 'NodeLost' }, deleting)[1], 'Unknown');

  const printer = printerFor(pod);
  t.same(printer.conditions?.({ metadata: meta('p'), status: { phase: 'Succeeded' } }), [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }]);
  t.equal(printer.conditions?.({ metadata: meta('p'), status: { phase: 'Running' } }), undefined);
  t.same(row(pod, { metadata: meta('p'), spec: { containers: [] }, status: { podIPs: [{ ip: 'fd00::5' }] } }).slice(5), ['fd00::5', '<none>', '<none>', '<none>'], 'wide cells');
});

t.test('job status, completions and duration', async (t) => {
  const job = def('batch', 'Job');
  const cells = (spec: Record<string, unknown>, status: Record<string, unknown>, extra: Record<string, unknown> = {}) => row(job, { metadata: meta('j', extra), spec, status }).slice(1, 4);
  t.same(cells({ parallelism: 3 }, { succeeded: 1, startTime: ago(90 * S) }), ['Running', '1/1 of 3', '90s']);
  t.same(cells({ completions: 5, parallelism: 2 }, { succeeded: 2, conditions: [{ type: 'Failed', status: 'True' }] }), ['Failed', '2/5', '']);
  t.same(cells({}, { conditions: [{ type: 'Suspended', status: 'True' }] }), ['Suspended', '0/1', '']);
  t.same(cells({}, { conditions: [{ type: 'FailureTarget', status: 'True' }] }), ['FailureTarget', '0/1', '']);
  t.same(cells({}, { conditions: [{ type: 'Complete', status: 'False' }] }, { deletionTimestamp: ago(0) }), ['Terminating', '0/1', '']);
});

t.test('events fall back between timestamps', async (t) => {
  const ev = def('', 'Event');
  const cells = row(ev, { metadata: meta('e'), involvedObject: { kind: 'Node' }, eventTime: ago(3 * M), type: 'Normal', reason: 'Starting', message: 'x' });
  t.same([cells[0], cells[3], cells[7], cells[8]], ['3m', 'node', '3m', 1], 'eventTime when firstTimestamp is unset; count 1 for singletons');
});

t.test('node status without a Ready condition', async (t) => {
  const node = def('', 'Node');
  const cells = row(node, { metadata: { name: 'n', creationTimestamp: ago(3 * D + 4 * H) }, status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } });
  t.same(cells.slice(1, 5), ['NotReady', '<none>', '3d4h', '']);
  t.same(row(node, { metadata: { name: 'n' } }).slice(1, 4), ['Unknown', '<none>', '<unknown>']);
});

t.test('custom resources', async (t) => {
  const crd = (printerColumns?: PrinterColumn[]): ResourceDefinition => ({
    group: 'cluster.karmada.io',
    versions: ['v1alpha1'],
    kind: 'Cluster',
    plural: 'clusters',
    singular: 'cluster',
    namespaced: false,
    verbs: ['get', 'list'],
    tracksGeneration: true,
    strategicMerge: false,
    fromCrd: 'clusters.cluster.karmada.io',
    ...(printerColumns && { printerColumns }),
  });
  const cluster: KubeObject = {
    metadata: { name: 'member1', creationTimestamp: ago(8 * D + 5 * H) },
    spec: { syncMode: 'Push', apiEndpoint: 'https://172.18.0.3:6443' },
    status: {
      kubernetesVersion: 'v1.31.0',
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: ago(90 * M) }],
      resourceSummary: { allocatable: { cpu: '8', pods: '110' } },
    },
  };

  t.test('no columns declared: Name + Age', async (t) => {
    const printer = printerFor(crd());
    t.same(printer.columns.map((c) => [c.name, c.type, c.priority]), [['Name', 'string', 0], ['Age', 'date', 0]]);
    t.same(printer.cells(cluster, NOW), ['member1', '8d']);
    t.same(printerFor(crd([])).cells(cluster, NOW), ['member1', '8d'], 'an empty list counts as none');
  });

  t.test('declared columns, evaluated by JSONPath', async (t) => {
    const columns: PrinterColumn[] = [
      { name: 'Version', type: 'string', description: 'Kubernetes version', priority: 0, jsonPath: '.status.kubernetesVersion' },
      { name: 'Mode', type: 'string', description: 'Sync mode', priority: 0, jsonPath: '.spec.syncMode' },
      { name: 'Ready', type: 'string', description: 'Ready', priority: 0, jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
      { name: 'Since', type: 'date', description: 'Ready since', priority: 1, jsonPath: '{.status.conditions[?(@.type=="Ready")].lastTransitionTime}' },
      { name: 'Pods', type: 'integer', description: 'Allocatable pods', priority: 1, jsonPath: ".status.resourceSummary.allocatable['pods']" },
      { name: 'Allocatable', type: 'string', description: 'Allocatable', priority: 1, jsonPath: '.status.resourceSummary.allocatable' },
      { name: 'Zone', type: 'string', description: 'Zone', priority: 1, jsonPath: '.spec.zone' },
      { name: 'Age', type: 'date', description: 'Age', priority: 0, jsonPath: '.metadata.creationTimestamp' },
    ];
    const printer = printerFor(crd(columns));
    t.same(printer.columns.map((c) => c.name), ['Name', 'Version', 'Mode', 'Ready', 'Since', 'Pods', 'Allocatable', 'Zone', 'Age']);
    t.same(printer.columns.filter((c) => c.priority > 0).map((c) => c.name), ['Since', 'Pods', 'Allocatable', 'Zone']);
    t.same(printer.cells(cluster, NOW), ['member1', 'v1.31.0', 'Push', 'True', '90m', null, '{"cpu":"8","pods":"110"}', null, '8d']);
    t.equal(printer.cells({ metadata: { name: 'x' }, status: { resourceSummary: { allocatable: { pods: 110 } } } }, NOW)[5], 110);
  });

  t.test('columns without a description get the generated one', async (t) => {
    const printer = printerFor(crd([{ name: 'Mode', type: 'string', description: '', priority: 0, jsonPath: '.spec.syncMode' }]));
    t.equal(printer.columns[1]?.description, 'Custom resource definition column (in JSONPath format): .spec.syncMode');
    t.equal(printerFor(crd()).columns[1]?.description, printerFor(def('', 'ConfigMap')).columns[2]?.description, 'default Age is described like creationTimestamp');
  });

  t.test('a built-in printer is never used for a CRD-backed kind', async (t) => {
    const lookalike = { ...crd(), group: 'apps', kind: 'Deployment' };
    t.same(printerFor(lookalike).columns.map((c) => c.name), ['Name', 'Age']);
  });
});

t.test('buildTable', async (t) => {
  const printer = printerFor(def('', 'ConfigMap'));
  const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { ...meta('cfg'), resourceVersion: '42', uid: 'u-1' }, data: { a: '1' } };

  const table = buildTable(printer, [cm], { includeObject: 'Metadata', resourceVersion: '42', now: NOW });
  t.same(Object.keys(table), ['kind', 'apiVersion', 'metadata', 'columnDefinitions', 'rows'], 'field order as kube writes it');
  t.same(table.metadata, { resourceVersion: '42' });
  t.same(table.columnDefinitions?.[0], { name: 'Name', type: 'string', format: 'name', description: printer.columns[0]?.description, priority: 0 });
  t.same(table.columnDefinitions?.[1], { name: 'Data', type: 'string', format: '', description: printer.columns[1]?.description, priority: 0 }, 'format is always present');
  t.same(table.rows, [{ cells: ['cfg', 1, '5m'], object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: cm.metadata } }]);

  const full = buildTable(printer, [cm], { includeObject: 'Object', resourceVersion: '42', continue: 'tok', remainingItemCount: 7, now: NOW });
  t.same(full.metadata, { resourceVersion: '42', continue: 'tok', remainingItemCount: 7 });
  t.equal(full.rows[0]?.object, cm);

  const none = buildTable(printer, [cm], { includeObject: 'None', resourceVersion: '42', omitColumns: true, now: NOW });
  t.equal(none.columnDefinitions, null, 'later watch events carry no columns');
  t.notOk(none.rows[0] && 'object' in none.rows[0]);

  t.same(buildTable(printer, [], { includeObject: 'Metadata', resourceVersion: '', now: NOW }).rows, [], 'empty list');
  t.same(buildTable(printer, [], { includeObject: 'Metadata', resourceVersion: '', now: NOW }).metadata, {}, 'empty resourceVersion omitted');

  const pods = buildTable(printerFor(def('', 'Pod')), [{ metadata: meta('done'), spec: { containers: [] }, status: { phase: 'Failed' } }], { includeObject: 'None', resourceVersion: '1', now: NOW });
  t.same(pods.rows[0]?.conditions, [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }]);
});
