import t from 'tap';
import type { Test } from 'tap';
import { fieldSetOf, serverSideApply } from '../../src/api/server-side-apply.js';
import type { ApplyFieldMeta, ApplyOptions } from '../../src/api/server-side-apply.js';
import { builtinPatchSchema } from '../../src/api/strategic-merge-patch.js';
import type { PatchSchema } from '../../src/api/strategic-merge-patch.js';
import { recordUpdate } from '../../src/api/managed-fields.js';
import { ApiError } from '../../src/api/status.js';
import type { KubeObject, ManagedFieldsEntry } from '../../src/api/object.js';

const deploymentSchema = builtinPatchSchema('apps/v1', 'Deployment');
const noSchema: PatchSchema = { lookup: () => undefined };

const T0 = '2024-05-01T10:00:00Z';
const T1 = '2024-05-01T10:01:00Z';
const T2 = '2024-05-01T10:02:00Z';
const T3 = '2024-05-01T10:03:00Z';

type Json = Record<string, unknown>;

interface Container {
  name: string;
  image?: string;
  ports?: Json[];
  env?: Json[];
  [k: string]: unknown;
}

/** A Deployment manifest as a user writes it. */
function deployment(opts: { replicas?: number; containers?: Container[]; labels?: Record<string, string>; finalizers?: string[]; extraSpec?: Json } = {}): KubeObject {
  const containers = opts.containers ?? [{ name: 'nginx', image: 'nginx:1.25', ports: [{ containerPort: 80 }], env: [{ name: 'MODE', value: 'prod' }] }];
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', ...(opts.labels ? { labels: opts.labels } : {}), ...(opts.finalizers ? { finalizers: opts.finalizers } : {}) },
    spec: {
      ...(opts.replicas !== undefined ? { replicas: opts.replicas } : {}),
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers } },
      ...opts.extraSpec,
    },
  };
}

type Step =
  | { apply: KubeObject; manager?: string; force?: boolean; subresource?: string; apiVersion?: string; now: string; schema?: PatchSchema }
  /** A non-apply write (PUT/PATCH) recorded the way managed-fields.ts records it. */
  /** An Update write; `asCreate` records it as the write that created the object (it owns everything it set). */
  | { update: (live: KubeObject) => KubeObject; manager: string; apiVersion?: string; subresource?: string; asCreate?: boolean }
  /** What the registry does around a write (uid, resourceVersion, defaults, …). */
  | { edit: (live: KubeObject) => void };

interface Run {
  /** The object after the last successful step. */
  live: KubeObject;
  /** Objects after each successful step. */
  history: KubeObject[];
  /** Error thrown by the last step, if any. */
  error: unknown;
}

interface Case {
  name: string;
  schema?: PatchSchema;
  steps: Step[];
  check: (t: Test, run: Run) => void;
}

function run(t: Test, c: Case): Run {
  let live: KubeObject | undefined;
  const history: KubeObject[] = [];
  let error: unknown;
  c.steps.forEach((step, i) => {
    if (error !== undefined) throw new Error(`step ${i} follows a failed step`);
    try {
      if ('apply' in step) {
        const options: ApplyOptions = {
          manager: step.manager ?? 'kubectl',
          force: step.force ?? false,
          apiVersion: step.apiVersion ?? step.apply.apiVersion ?? 'v1',
          schema: step.schema ?? c.schema ?? deploymentSchema,
          now: step.now,
          ...(step.subresource ? { subresource: step.subresource } : {}),
        };
        const before = live === undefined ? undefined : structuredClone(live);
        const result = serverSideApply(live, step.apply, options);
        if (before !== undefined && live !== undefined) t.same(live, before, `${c.name}: step ${i} left its input alone`);
        live = result.object;
      } else if ('update' in step) {
        if (!live) throw new Error('update before create');
        const next = step.update(structuredClone(live));
        next.metadata.managedFields = recordUpdate(next, step.asCreate ? undefined : live, step.manager, step.apiVersion ?? 'apps/v1', step.subresource);
        live = next;
      } else {
        if (!live) throw new Error('edit before create');
        live = structuredClone(live);
        step.edit(live);
      }
      history.push(structuredClone(live));
    } catch (err) {
      if (i !== c.steps.length - 1) throw err;
      error = err;
    }
  });
  if (!live) throw new Error('no object');
  return { live, history, error };
}

const managed = (o: KubeObject, manager: string, operation: 'Apply' | 'Update' = 'Apply'): ManagedFieldsEntry | undefined =>
  o.metadata.managedFields?.find((e) => e.manager === manager && e.operation === operation);
const fields = (o: KubeObject, manager: string, operation: 'Apply' | 'Update' = 'Apply') => managed(o, manager, operation)?.fieldsV1;
const spec = (o: KubeObject) => o['spec'] as Json & { replicas?: number; template: { spec: { containers: Container[] } } };
const containers = (o: KubeObject) => spec(o).template.spec.containers;
const dig = (value: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((at, k) => (at as Json | undefined)?.[k], value);
const ok = (t: Test, r: Run) => t.equal(r.error, undefined, 'no error', { error: r.error });

function conflict(t: Test, r: Run, message: string, causes: { message: string; field: string }[]): void {
  t.ok(r.error instanceof ApiError, 'an ApiError', { error: r.error });
  if (!(r.error instanceof ApiError)) return;
  t.equal(r.error.code, 409);
  t.equal(r.error.reason, 'Conflict');
  t.equal(r.error.message, message);
  t.same(r.error.details, { causes: causes.map((c) => ({ reason: 'FieldManagerConflict', ...c })) });
  t.same(r.error.toStatus().details?.causes?.[0]?.reason, 'FieldManagerConflict');
}

/** The fieldsV1 kube records for `deployment()` applied as is. */
const deploymentFields = {
  'f:spec': {
    'f:selector': {},
    'f:template': {
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': {
        'f:containers': {
          'k:{"name":"nginx"}': {
            '.': {},
            'f:env': { 'k:{"name":"MODE"}': { '.': {}, 'f:name': {}, 'f:value': {} } },
            'f:image': {},
            'f:name': {},
            'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
          },
        },
      },
    },
  },
};

const cases: Case[] = [
  {
    name: 'create records one Apply entry owning exactly the applied fields',
    steps: [{ apply: deployment({ replicas: 2, labels: { app: 'web' } }), now: T0 }],
    check: (t, { live }) => {
      t.same(live['spec'], deployment({ replicas: 2 })['spec']);
      t.same(live.metadata.labels, { app: 'web' });
      t.same(live.metadata.managedFields, [
        {
          manager: 'kubectl',
          operation: 'Apply',
          apiVersion: 'apps/v1',
          time: T0,
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:metadata': { 'f:labels': { 'f:app': {} } }, 'f:spec': { 'f:replicas': {}, ...deploymentFields['f:spec'] } },
        },
      ]);
      // serialized the way kube orders FieldsV1: "." first, then fields sorted.
      const text = JSON.stringify(fields(live, 'kubectl'));
      t.ok(text.startsWith('{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":'), text);
      t.match(text, /"k:\{\\"name\\":\\"nginx\\"\}":\{"\.":\{\},"f:env":/);
    },
  },
  {
    name: 're-applying the same manifest changes nothing (not even the entry time)',
    steps: [
      { apply: deployment({ replicas: 2 }), now: T0 },
      { edit: (o) => Object.assign(o.metadata, { uid: 'u-1', resourceVersion: '5', creationTimestamp: T0, generation: 1 }) },
      { apply: deployment({ replicas: 2 }), now: T1 },
    ],
    check: (t, r) => {
      ok(t, r);
      t.same(r.live, r.history[1]);
      t.equal(managed(r.live, 'kubectl')?.time, T0);
    },
  },
  {
    name: 'changing a field it owns updates the value and the entry time',
    steps: [
      { apply: deployment({ replicas: 2 }), now: T0 },
      { apply: deployment({ replicas: 5 }), now: T1 },
    ],
    check: (t, r) => {
      ok(t, r);
      t.equal(spec(r.live).replicas, 5);
      t.equal(r.live.metadata.managedFields?.length, 1);
      t.equal(managed(r.live, 'kubectl')?.time, T1);
    },
  },
  {
    name: 'a different value for a field another applier owns is a 409 naming it',
    steps: [
      { apply: deployment({ replicas: 2 }), manager: 'alice', now: T0 },
      { apply: deployment({ replicas: 3 }), manager: 'bob', now: T1 },
    ],
    check: (t, r) => {
      conflict(t, r, 'Apply failed with 1 conflict: conflict with "alice": .spec.replicas', [{ message: 'conflict with "alice"', field: '.spec.replicas' }]);
      t.equal(spec(r.live).replicas, 2);
    },
  },
  {
    name: 'the same value is shared ownership, no conflict',
    steps: [
      { apply: deployment({ replicas: 2 }), manager: 'alice', now: T0 },
      { apply: { ...deployment({ replicas: 2 }), spec: { replicas: 2 } }, manager: 'bob', now: T1 },
    ],
    check: (t, r) => {
      ok(t, r);
      t.same(fields(r.live, 'bob'), { 'f:spec': { 'f:replicas': {} } });
      t.same(fields(r.live, 'alice'), { 'f:spec': { 'f:replicas': {}, ...deploymentFields['f:spec'] } });
      t.equal(managed(r.live, 'bob')?.time, T1, 'a new entry gets the current time');
      t.same(r.live['spec'], r.history[0]?.['spec']);
    },
  },
  {
    name: 'force takes the field; the other manager loses it',
    steps: [
      { apply: deployment({ replicas: 2 }), manager: 'alice', now: T0 },
      { apply: { ...deployment(), spec: { replicas: 7 } }, manager: 'bob', force: true, now: T1 },
    ],
    check: (t, r) => {
      ok(t, r);
      t.equal(spec(r.live).replicas, 7);
      t.same(fields(r.live, 'bob'), { 'f:spec': { 'f:replicas': {} } });
      t.same(fields(r.live, 'alice'), deploymentFields);
      t.equal(managed(r.live, 'alice')?.time, T0, "the other manager's time is kept");
    },
  },
  {
    name: 'force that empties the other entry removes it',
    steps: [
      { apply: { ...deployment(), spec: { replicas: 2 } }, manager: 'alice', now: T0 },
      { apply: { ...deployment(), spec: { replicas: 3 } }, manager: 'bob', force: true, now: T1 },
    ],
    check: (t, r) => {
      ok(t, r);
      t.same(
        r.live.metadata.managedFields?.map((e) => e.manager),
        ['bob'],
      );
    },
  },
  {
    name: 'a field dropped from the manifest and owned by no one else is removed',
    steps: [
      { apply: deployment({ replicas: 2, labels: { app: 'web', tier: 'front' } }), now: T0 },
      { apply: deployment({ labels: { app: 'web' } }), now: T1 },
    ],
    check: (t, r) => {
      ok(t, r);
      t.notOk(Object.hasOwn(spec(r.live), 'replicas'));
      t.same(r.live.metadata.labels, { app: 'web' });
      t.same(fields(r.live, 'kubectl'), { 'f:metadata': { 'f:labels': { 'f:app': {} } }, ...deploymentFields });
    },
  },
  {
    name: 'a map left empty by a removal goes too; metadata and server fields stay',
    steps: [
      { apply: deployment({ labels: { tier: 'front' } }), now: T0 },
      { edit: (o) => Object.assign(o.metadata, { uid: 'u-1', resourceVersion: '9', creationTimestamp: T0, generation: 3 }) },
      { apply: deployment(), now: T1 },
    ],
    check: (t, r) => {
      ok(t, r);
      t.notOk(Object.hasOwn(r.live.metadata, 'labels'));
      t.match(r.live.metadata, { name: 'web', namespace: 'default', uid: 'u-1', resourceVersion: '9', creationTimestamp: T0, generation: 3 });
    },
  },
  {
    name: 'a dropped field another manager also owns is kept and just leaves this set',
    steps: [
      { apply: deployment({ replicas: 2 }), manager: 'alice', now: T0 },
      { apply: { ...deployment(), spec: { replicas: 2 } }, manager: 'bob', now: T1 },
      { apply: deployment(), manager: 'alice', now: T2 },
    ],
    check: (t, r) => {
      ok(t, r);
      t.equal(spec(r.live).replicas, 2);
      t.same(fields(r.live, 'alice'), deploymentFields);
      t.same(fields(r.live, 'bob'), { 'f:spec': { 'f:replicas': {} } });
    },
  },
  {
    name: 'a changed value owned by an Update manager conflicts "using" its apiVersion',
    steps: [
      { apply: deployment({ replicas: 2 }), manager: 'kubectl-client-side-apply', now: T0 },
      // kubectl-client-side-apply really writes through PUT/PATCH: make that the recorded operation.
      { edit: (o) => void (o.metadata.managedFields = []) },
      { update: (o) => o, manager: 'kubectl-client-side-apply', apiVersion: 'apps/v1', asCreate: true },
      { apply: deployment({ replicas: 3 }), manager: 'kubectl', now: T1 },
    ],
    check: (t, r) => {
      conflict(t, r, 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas', [
        { message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' },
      ]);
    },
  },
  {
    name: 'an Update manager with the same values: shared, and Apply entries sort first',
    steps: [
      { apply: deployment({ replicas: 2 }), manager: 'seed', now: T0 },
      { edit: (o) => void (o.metadata.managedFields = []) },
      { update: (o) => o, manager: 'kubectl-create', apiVersion: 'apps/v1', asCreate: true },
      { apply: deployment({ replicas: 2 }), manager: 'kubectl', now: T1 },
    ],
    check: (t, r) => {
      ok(t, r);
      t.same(
        r.live.metadata.managedFields?.map((e) => [e.manager, e.operation]),
        [
          ['kubectl', 'Apply'],
          ['kubectl-create', 'Update'],
        ],
      );
      t.same(fields(r.live, 'kubectl'), { 'f:spec': { 'f:replicas': {}, ...deploymentFields['f:spec'] } });
    },
  },
  {
    name: 'force against an Update manager strips the field from its entry only',
    steps: [
      { apply: deployment({ replicas: 2 }), manager: 'seed', now: T0 },
      { edit: (o) => void (o.metadata.managedFields = []) },
      { update: (o) => o, manager: 'kubectl-client-side-apply', apiVersion: 'apps/v1', asCreate: true },
      { apply: deployment({ replicas: 4 }), manager: 'kubectl', force: true, now: T1 },
    ],
    check: (t, r) => {
      ok(t, r);
      t.equal(spec(r.live).replicas, 4);
      const csa = fields(r.live, 'kubectl-client-side-apply', 'Update') as { 'f:spec': Json };
      t.notOk(Object.hasOwn(csa['f:spec'], 'f:replicas'));
      t.ok(Object.hasOwn(csa['f:spec'], 'f:template'));
    },
  },
  {
    name: 'several conflicts: one line per manager (sorted), then its fields',
    steps: [
      { apply: { ...deployment(), spec: { replicas: 2, minReadySeconds: 5 } }, manager: 'zed', now: T0 },
      { apply: { ...deployment(), spec: { paused: false } }, manager: 'amy', now: T1 },
      { update: (o) => Object.assign(o, { spec: { ...spec(o), revisionHistoryLimit: 3 } }), manager: 'hpa', apiVersion: 'autoscaling/v2' },
      { apply: { ...deployment(), spec: { replicas: 3, minReadySeconds: 6, paused: true, revisionHistoryLimit: 1 } }, manager: 'kubectl', now: T2 },
    ],
    check: (t, r) => {
      const hpa = 'conflict with "hpa" using autoscaling/v2';
      conflict(
        t,
        r,
        'Apply failed with 4 conflicts: conflicts with "amy":\n- .spec.paused\n' +
          'conflicts with "hpa" using autoscaling/v2:\n- .spec.revisionHistoryLimit\n' +
          'conflicts with "zed":\n- .spec.minReadySeconds\n- .spec.replicas',
        [
          // An Update takes ownership of only what it changed: hpa owns revisionHistoryLimit alone.
          { message: 'conflict with "amy"', field: '.spec.paused' },
          { message: hpa, field: '.spec.revisionHistoryLimit' },
          { message: 'conflict with "zed"', field: '.spec.minReadySeconds' },
          { message: 'conflict with "zed"', field: '.spec.replicas' },
        ],
      );
    },
  },
  {
    name: 'keyed list: a new container is appended, an image change merges by name',
    steps: [
      { apply: deployment(), now: T0 },
      { edit: (o) => Object.assign(containers(o)[0] as Container, { terminationMessagePath: '/dev/termination-log' }) },
      {
        apply: deployment({
          containers: [
            { name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }], env: [{ name: 'MODE', value: 'prod' }] },
            { name: 'sidecar', image: 'busybox' },
          ],
        }),
        now: T1,
      },
    ],
    check: (t, r) => {
      ok(t, r);
      t.same(containers(r.live), [
        { name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }], env: [{ name: 'MODE', value: 'prod' }], terminationMessagePath: '/dev/termination-log' },
        { name: 'sidecar', image: 'busybox' },
      ]);
      const owned = (fields(r.live, 'kubectl') as typeof deploymentFields)['f:spec']['f:template']['f:spec']['f:containers'];
      t.same(Object.keys(owned), ['k:{"name":"nginx"}', 'k:{"name":"sidecar"}']);
      t.same(owned['k:{"name":"sidecar"}' as keyof typeof owned], { '.': {}, 'f:image': {}, 'f:name': {} });
    },
  },
  {
    name: 'keyed list: a container dropped from the manifest is removed with its unowned defaults',
    steps: [
      { apply: deployment({ containers: [{ name: 'nginx', image: 'nginx' }, { name: 'sidecar', image: 'busybox' }] }), now: T0 },
      { edit: (o) => Object.assign(containers(o)[1] as Container, { imagePullPolicy: 'Always' }) },
      { apply: deployment({ containers: [{ name: 'nginx', image: 'nginx' }] }), now: T1 },
    ],
    check: (t, r) => {
      ok(t, r);
      t.same(containers(r.live), [{ name: 'nginx', image: 'nginx' }]);
    },
  },
  {
    name: 'keyed list: an item another manager wrote survives its removal from the manifest',
    steps: [
      { apply: deployment({ containers: [{ name: 'nginx', image: 'nginx' }] }), manager: 'kubectl', now: T0 },
      {
        update: (o) => {
          containers(o).push({ name: 'istio-proxy', image: 'proxy' });
          return o;
        },
        manager: 'istio-injector',
      },
      { apply: deployment({ containers: [{ name: 'nginx', image: 'nginx' }, { name: 'istio-proxy', image: 'proxy' }] }), manager: 'kubectl', now: T1 },
      { apply: deployment({ containers: [{ name: 'nginx', image: 'nginx' }] }), manager: 'kubectl', now: T2 },
    ],
    check: (t, r) => {
      ok(t, r);
      t.same(
        containers(r.live).map((c) => c.name),
        ['nginx', 'istio-proxy'],
      );
      const owned = (fields(r.live, 'kubectl') as typeof deploymentFields)['f:spec']['f:template']['f:spec']['f:containers'];
      t.same(Object.keys(owned), ['k:{"name":"nginx"}']);
    },
  },
  {
    name: 'keyed list order: manifest order for its items, others keep their place',
    steps: [
      { apply: deployment({ containers: [{ name: 'a', image: 'a' }, { name: 'b', image: 'b' }] }), manager: 'alice', now: T0 },
      { apply: deployment({ containers: [{ name: 'c', image: 'c' }, { name: 'a', image: 'a' }] }), manager: 'bob', now: T1 },
    ],
    check: (t, r) => {
      ok(t, r);
      t.same(
        containers(r.live).map((c) => c.name),
        ['c', 'a', 'b'],
      );
    },
  },
  {
    name: 'container ports are keyed by containerPort+protocol (protocol defaulting to TCP)',
    steps: [
      { apply: deployment({ containers: [{ name: 'dns', image: 'coredns', ports: [{ containerPort: 53, protocol: 'UDP' }, { containerPort: 53 }, { containerPort: 9153, name: 'metrics' }] }] }), now: T0 },
      { edit: (o) => Object.assign(((containers(o)[0] as Container).ports as Json[])[1] as Json, { protocol: 'TCP' }) },
      { apply: deployment({ containers: [{ name: 'dns', image: 'coredns', ports: [{ containerPort: 53, protocol: 'UDP' }, { containerPort: 53, name: 'dns-tcp' }] }] }), now: T1 },
    ],
    check: (t, r) => {
      ok(t, r);
      const ports0 = dig(fields(r.history[0] as KubeObject, 'kubectl'), 'f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"dns"}', 'f:ports') as Json;
      t.same(Object.keys(ports0), ['k:{"containerPort":53,"protocol":"TCP"}', 'k:{"containerPort":53,"protocol":"UDP"}', 'k:{"containerPort":9153,"protocol":"TCP"}']);
      t.same(ports0['k:{"containerPort":53,"protocol":"UDP"}'], { '.': {}, 'f:containerPort': {}, 'f:protocol': {} });
      t.same(ports0['k:{"containerPort":53,"protocol":"TCP"}'], { '.': {}, 'f:containerPort': {} }, 'a defaulted key field is not owned');
      t.same((containers(r.live)[0] as Container).ports, [
        { containerPort: 53, protocol: 'UDP' },
        { containerPort: 53, protocol: 'TCP', name: 'dns-tcp' },
      ]);
    },
  },
  {
    name: 'env merges by name: add, change and remove variables; another writer’s variable stays',
    steps: [
      { apply: deployment({ containers: [{ name: 'app', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }] }), now: T0 },
      {
        // a mutating webhook's write: it owns only the variable it added
        edit: (o) => {
          ((containers(o)[0] as Container).env as Json[]).push({ name: 'INJECTED', value: 'x' });
          const injected = { 'k:{"name":"INJECTED"}': { '.': {}, 'f:name': {}, 'f:value': {} } };
          (o.metadata.managedFields ??= []).push({
            manager: 'mutator',
            operation: 'Update',
            apiVersion: 'apps/v1',
            time: T0,
            fieldsType: 'FieldsV1',
            fieldsV1: { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"app"}': { 'f:env': injected } } } } } },
          });
        },
      },
      { apply: deployment({ containers: [{ name: 'app', env: [{ name: 'A', value: '10' }, { name: 'C', value: '3' }] }] }), now: T1 },
    ],
    check: (t, r) => {
      ok(t, r);
      t.same((containers(r.live)[0] as Container).env, [
        { name: 'A', value: '10' },
        { name: 'INJECTED', value: 'x' },
        { name: 'C', value: '3' },
      ]);
    },
  },
  {
    name: 'a changed keyed-item field owned by another manager names the item in the path',
    steps: [
      { apply: deployment(), manager: 'alice', now: T0 },
      { apply: deployment({ containers: [{ name: 'nginx', image: 'nginx:2', ports: [{ containerPort: 80 }] }] }), manager: 'bob', now: T1 },
    ],
    check: (t, r) => {
      conflict(t, r, 'Apply failed with 1 conflict: conflict with "alice": .spec.template.spec.containers[name="nginx"].image', [
        { message: 'conflict with "alice"', field: '.spec.template.spec.containers[name="nginx"].image' },
      ]);
    },
  },
  {
    name: 'a list an Update manager owns whole (unnamed ports) conflicts as a whole when changed',
    steps: [
      { apply: deployment(), manager: 'seed', now: T0 },
      { edit: (o) => void (o.metadata.managedFields = []) },
      { update: (o) => o, manager: 'kubectl-edit', apiVersion: 'apps/v1', asCreate: true },
      { apply: deployment({ containers: [{ name: 'nginx', image: 'nginx:1.25', ports: [{ containerPort: 8080 }], env: [{ name: 'MODE', value: 'prod' }] }] }), manager: 'kubectl', now: T1 },
    ],
    check: (t, r) => {
      conflict(t, r, 'Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.template.spec.containers[name="nginx"].ports', [
        { message: 'conflict with "kubectl-edit" using apps/v1', field: '.spec.template.spec.containers[name="nginx"].ports' },
      ]);
    },
  },
  {
    name: 'finalizers are a set: union with other owners, own entries removable',
    steps: [
      { apply: deployment({ finalizers: ['a.example.com/x', 'b.example.com/y'] }), manager: 'alice', now: T0 },
      { apply: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', finalizers: ['c.example.com/z', 'a.example.com/x'] } }, manager: 'bob', now: T1 },
      { apply: deployment({ finalizers: ['b.example.com/y'] }), manager: 'alice', now: T2 },
    ],
    check: (t, r) => {
      ok(t, r);
      t.same(r.history[1]?.metadata.finalizers, ['c.example.com/z', 'a.example.com/x', 'b.example.com/y']);
      t.same(fields(r.history[1] as KubeObject, 'bob'), { 'f:metadata': { 'f:finalizers': { 'v:"a.example.com/x"': {}, 'v:"c.example.com/z"': {} } } });
      // alice drops a.example.com/x, but bob still owns it
      t.same(r.live.metadata.finalizers, ['c.example.com/z', 'a.example.com/x', 'b.example.com/y']);
      t.same(fields(r.live, 'alice'), { 'f:metadata': { 'f:finalizers': { 'v:"b.example.com/y"': {} } }, ...deploymentFields });
    },
  },
  {
    name: 'a finalizer only this manager had is removed when dropped',
    steps: [
      { apply: deployment({ finalizers: ['a.example.com/x', 'b.example.com/y'] }), now: T0 },
      { apply: deployment({ finalizers: ['b.example.com/y'] }), now: T1 },
    ],
    check: (t, r) => {
      ok(t, r);
      t.same(r.live.metadata.finalizers, ['b.example.com/y']);
    },
  },
  {
    name: 'selector is atomic for workloads',
    steps: [
      { apply: deployment(), manager: 'alice', now: T0 },
      { apply: { ...deployment(), spec: { selector: { matchLabels: { app: 'web', extra: 'y' } } } }, manager: 'bob', now: T1 },
    ],
    check: (t, r) => {
      conflict(t, r, 'Apply failed with 1 conflict: conflict with "alice": .spec.selector', [{ message: 'conflict with "alice"', field: '.spec.selector' }]);
    },
  },
  {
    name: 'status subresource: only status is applied and owned, spec in the config is ignored',
    steps: [
      { apply: deployment({ replicas: 2 }), now: T0 },
      { apply: { ...deployment({ replicas: 9 }), status: { replicas: 2, conditions: [{ type: 'Available', status: 'True' }] } }, manager: 'controller', subresource: 'status', now: T1 },
    ],
    check: (t, r) => {
      ok(t, r);
      t.equal(spec(r.live).replicas, 2);
      t.same(r.live['status'], { replicas: 2, conditions: [{ type: 'Available', status: 'True' }] });
      t.same(managed(r.live, 'controller'), {
        manager: 'controller',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        time: T1,
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:status': { 'f:conditions': { 'k:{"type":"Available"}': { '.': {}, 'f:status': {}, 'f:type': {} } }, 'f:replicas': {} } },
        subresource: 'status',
      });
      t.same(fields(r.live, 'kubectl'), { 'f:spec': { 'f:replicas': {}, ...deploymentFields['f:spec'] } });
    },
  },
  {
    name: 'status subresource conflicts name the subresource',
    steps: [
      { apply: deployment(), now: T0 },
      { update: (o) => Object.assign(o, { status: { replicas: 1 } }), manager: 'kube-controller-manager', subresource: 'status' },
      { apply: { ...deployment(), status: { replicas: 3 } }, manager: 'test', subresource: 'status', now: T1 },
    ],
    check: (t, r) => {
      conflict(t, r, 'Apply failed with 1 conflict: conflict with "kube-controller-manager" with subresource "status" using apps/v1: .status.replicas', [
        { message: 'conflict with "kube-controller-manager" with subresource "status" using apps/v1', field: '.status.replicas' },
      ]);
    },
  },
  {
    name: 'main-resource apply never owns nor touches status',
    steps: [
      { apply: { ...deployment(), status: { replicas: 5 } }, now: T0 },
      { edit: (o) => Object.assign(o, { status: { replicas: 1 } }) },
      { apply: { ...deployment(), status: { replicas: 7 } }, now: T1 },
    ],
    check: (t, r) => {
      ok(t, r);
      t.notOk(Object.hasOwn(r.history[0] as KubeObject, 'status'), 'create drops status');
      t.same(r.live['status'], { replicas: 1 });
      t.same(fields(r.live, 'kubectl'), deploymentFields);
    },
  },
  {
    name: 'server-set metadata is neither owned nor changed',
    steps: [
      { apply: deployment(), now: T0 },
      { edit: (o) => Object.assign(o.metadata, { uid: 'u-1', resourceVersion: '10', creationTimestamp: T0, generation: 2 }) },
      {
        apply: { ...deployment({ replicas: 1 }), metadata: { name: 'web', namespace: 'default', uid: 'u-1', resourceVersion: '3', generation: 99, creationTimestamp: T3, annotations: { a: 'b' } } },
        now: T1,
      },
    ],
    check: (t, r) => {
      ok(t, r);
      t.match(r.live.metadata, { uid: 'u-1', resourceVersion: '10', creationTimestamp: T0, generation: 2, annotations: { a: 'b' } });
      t.same(fields(r.live, 'kubectl'), { 'f:metadata': { 'f:annotations': { 'f:a': {} } }, 'f:spec': { 'f:replicas': {}, ...deploymentFields['f:spec'] } });
    },
  },
  {
    name: 'null in the manifest unsets the field and keeps it owned',
    steps: [
      { apply: deployment({ replicas: 2, labels: { a: '1', b: '2' } }), now: T0 },
      { apply: { ...deployment({ replicas: 2 }), metadata: { name: 'web', namespace: 'default', labels: { a: '1', b: null } as unknown as Record<string, string> } }, now: T1 },
    ],
    check: (t, r) => {
      ok(t, r);
      t.same(r.live.metadata.labels, { a: '1' });
      t.same((fields(r.live, 'kubectl') as { 'f:metadata': unknown })['f:metadata'], { 'f:labels': { 'f:a': {}, 'f:b': {} } });
    },
  },
  {
    name: 'CR without schema: lists are atomic (replaced whole, owned as one field)',
    schema: noSchema,
    steps: [
      { apply: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { items: [{ name: 'a', v: 1 }, { name: 'b' }], size: 1 } }, manager: 'alice', now: T0 },
      { apply: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { items: [{ name: 'c' }] } }, manager: 'alice', now: T1 },
    ],
    check: (t, r) => {
      ok(t, r);
      t.same(fields(r.history[0] as KubeObject, 'alice'), { 'f:spec': { 'f:items': {}, 'f:size': {} } });
      t.same(r.live['spec'], { items: [{ name: 'c' }] });
      t.same(managed(r.live, 'alice')?.apiVersion, 'example.com/v1');
    },
  },
  {
    name: 'CR without schema: a different list from another manager conflicts on the whole list',
    schema: noSchema,
    steps: [
      { apply: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { items: ['a'] } }, manager: 'alice', now: T0 },
      { apply: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { items: ['a', 'b'] } }, manager: 'bob', now: T1 },
    ],
    check: (t, r) => {
      conflict(t, r, 'Apply failed with 1 conflict: conflict with "alice": .spec.items', [{ message: 'conflict with "alice"', field: '.spec.items' }]);
    },
  },
  {
    name: 'CR schema with x-kubernetes-list-map-keys merges by all keys',
    schema: {
      lookup: (path): ApplyFieldMeta | undefined => (path.join('.') === 'spec.routes' ? { listType: 'map', listMapKeys: ['port', 'host'] } : undefined),
    },
    steps: [
      { apply: { apiVersion: 'example.com/v1', kind: 'Gateway', metadata: { name: 'g' }, spec: { routes: [{ host: 'a', port: 80, to: 'x' }] } }, manager: 'alice', now: T0 },
      { apply: { apiVersion: 'example.com/v1', kind: 'Gateway', metadata: { name: 'g' }, spec: { routes: [{ host: 'a', port: 443, to: 'y' }] } }, manager: 'bob', now: T1 },
    ],
    check: (t, r) => {
      ok(t, r);
      t.same(r.live['spec'], { routes: [{ host: 'a', port: 80, to: 'x' }, { host: 'a', port: 443, to: 'y' }] });
      t.same(fields(r.live, 'bob'), { 'f:spec': { 'f:routes': { 'k:{"host":"a","port":443}': { '.': {}, 'f:host': {}, 'f:port': {}, 'f:to': {} } } } });
    },
  },
];

t.test('server-side apply', async (t) => {
  t.ok(cases.length >= 25, `${cases.length} cases`);
  for (const c of cases) {
    await t.test(c.name, async (t) => c.check(t, run(t, c)));
  }
});

t.test('malformed manifests', async (t) => {
  const cases: { name: string; config: KubeObject; code: number; message: string | RegExp }[] = [
    { name: 'managedFields in the manifest', config: { ...deployment(), metadata: { name: 'web', managedFields: [{ manager: 'x' }] } }, code: 400, message: 'metadata.managedFields must be nil' },
    {
      name: 'keyed item without its key',
      config: deployment({ containers: [{ image: 'nginx' } as unknown as Container] }),
      code: 422,
      message: '.spec.template.spec.containers: element 0: associative list with keys has an element that omits key field "name" (and doesn\'t have default value)',
    },
    {
      name: 'duplicate keys',
      config: deployment({ containers: [{ name: 'a' }, { name: 'a' }] }),
      code: 422,
      message: '.spec.template.spec.containers: duplicate entries for key [name="a"]',
    },
    {
      name: 'duplicate ports after protocol defaulting',
      config: deployment({ containers: [{ name: 'a', ports: [{ containerPort: 80 }, { containerPort: 80, protocol: 'TCP' }] }] }),
      code: 422,
      message: '.spec.template.spec.containers[name="a"].ports: duplicate entries for key [containerPort=80,protocol="TCP"]',
    },
    { name: 'duplicate set values', config: deployment({ finalizers: ['a', 'a'] }), code: 422, message: '.metadata.finalizers: duplicate entries for key [="a"]' },
  ];
  for (const c of cases) {
    for (const live of [undefined, serverSideApply(undefined, deployment(), { manager: 'm', force: false, apiVersion: 'apps/v1', schema: deploymentSchema, now: T0 }).object]) {
      try {
        serverSideApply(live, c.config, { manager: 'kubectl', force: false, apiVersion: 'apps/v1', schema: deploymentSchema, now: T1 });
        t.fail(`${c.name} did not throw`);
      } catch (err) {
        t.ok(err instanceof ApiError, c.name, { error: err });
        if (err instanceof ApiError) {
          t.equal(err.code, c.code, `${c.name}: code`);
          if (typeof c.message === 'string') t.equal(err.message, c.message, `${c.name}: message`);
          else t.match(err.message, c.message);
        }
      }
    }
  }
});

t.test('a manager applying nothing keeps no entry', async (t) => {
  const live = serverSideApply(undefined, deployment({ replicas: 1 }), { manager: 'a', force: false, apiVersion: 'apps/v1', schema: deploymentSchema, now: T0 }).object;
  const out = serverSideApply(live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' } }, { manager: 'a', force: false, apiVersion: 'apps/v1', schema: deploymentSchema, now: T1 }).object;
  t.notOk(Object.hasOwn(out, 'spec') && Object.keys(out['spec'] as Json).length > 0, 'everything it applied is gone');
  t.notOk(Object.hasOwn(out.metadata, 'managedFields'));
  t.equal(out.metadata.name, 'web');
});

t.test('the entry time defaults to now', async (t) => {
  const out = serverSideApply(undefined, deployment(), { manager: 'a', force: false, apiVersion: 'apps/v1', schema: deploymentSchema }).object;
  t.match(out.metadata.managedFields?.[0]?.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});

t.test('fieldSetOf', async (t) => {
  const object = serverSideApply(undefined, deployment({ replicas: 2, labels: { app: 'web' }, finalizers: ['f'] }), {
    manager: 'a',
    force: false,
    apiVersion: 'apps/v1',
    schema: deploymentSchema,
    now: T0,
  }).object;
  Object.assign(object.metadata, { uid: 'u', resourceVersion: '1' });
  object['status'] = { replicas: 2 };
  t.same(fieldSetOf(object, deploymentSchema), {
    'f:metadata': { 'f:finalizers': { 'v:"f"': {} }, 'f:labels': { 'f:app': {} } },
    'f:spec': { 'f:replicas': {}, ...deploymentFields['f:spec'] },
    'f:status': { 'f:replicas': {} },
  });
  // lists that cannot be keyed (missing keys) are owned whole instead of failing
  t.same(fieldSetOf({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ image: 'x' }] } }, builtinPatchSchema('v1', 'Pod')), {
    'f:spec': { 'f:containers': {} },
  });
  t.same(fieldSetOf({ apiVersion: 'example.com/v1', kind: 'W', metadata: { name: 'w' }, spec: { a: [1, 2], b: { c: {} } } }, noSchema), {
    'f:spec': { 'f:a': {}, 'f:b': { 'f:c': {} } },
  });
});
