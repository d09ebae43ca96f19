import t from 'tap';
import { applyJsonPatch, PatchApplyError } from '../../src/api/json-patch.js';
import { ApiError } from '../../src/api/status.js';

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web' }, annotations: { 'a/b': 'slash', 'c~d': 'tilde' } },
  spec: { replicas: 2, template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.25', env: [{ name: 'A', value: '1' }] }] } } },
});

t.test('operations', async (t) => {
  const cases: { name: string; ops: unknown[]; check: (doc: ReturnType<typeof deployment>) => unknown; expect: unknown }[] = [
    { name: 'add member', ops: [{ op: 'add', path: '/metadata/labels/tier', value: 'front' }], check: (d) => d.metadata.labels, expect: { app: 'web', tier: 'front' } },
    { name: 'add replaces an existing member', ops: [{ op: 'add', path: '/spec/replicas', value: 5 }], check: (d) => d.spec.replicas, expect: 5 },
    {
      name: 'add appends with -',
      ops: [{ op: 'add', path: '/spec/template/spec/containers/0/env/-', value: { name: 'B', value: '2' } }],
      check: (d) => d.spec.template.spec.containers[0]?.env.map((e) => e.name),
      expect: ['A', 'B'],
    },
    {
      name: 'add inserts at an index',
      ops: [{ op: 'add', path: '/spec/template/spec/containers/0/env/0', value: { name: 'Z', value: '0' } }],
      check: (d) => d.spec.template.spec.containers[0]?.env.map((e) => e.name),
      expect: ['Z', 'A'],
    },
    {
      name: 'add at index == length appends',
      ops: [{ op: 'add', path: '/spec/template/spec/containers/0/env/1', value: { name: 'B' } }],
      check: (d) => d.spec.template.spec.containers[0]?.env.map((e) => e.name),
      expect: ['A', 'B'],
    },
    { name: 'remove member', ops: [{ op: 'remove', path: '/metadata/labels/app' }], check: (d) => d.metadata.labels, expect: {} },
    { name: 'remove array element', ops: [{ op: 'remove', path: '/spec/template/spec/containers/0/env/0' }], check: (d) => d.spec.template.spec.containers[0]?.env, expect: [] },
    { name: 'remove with a negative index (kube extension)', ops: [{ op: 'remove', path: '/spec/template/spec/containers/0/env/-1' }], check: (d) => d.spec.template.spec.containers[0]?.env, expect: [] },
    { name: 'replace', ops: [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'nginx:1.27' }], check: (d) => d.spec.template.spec.containers[0]?.image, expect: 'nginx:1.27' },
    { name: 'replace of a missing member adds it (kube quirk)', ops: [{ op: 'replace', path: '/metadata/labels/new', value: 'x' }], check: (d) => d.metadata.labels, expect: { app: 'web', new: 'x' } },
    { name: '~1 and ~0 escapes', ops: [{ op: 'replace', path: '/metadata/annotations/a~1b', value: 'S' }, { op: 'remove', path: '/metadata/annotations/c~0d' }], check: (d) => d.metadata.annotations, expect: { 'a/b': 'S' } },
    { name: 'move', ops: [{ op: 'move', from: '/metadata/labels/app', path: '/metadata/labels/name' }], check: (d) => d.metadata.labels, expect: { name: 'web' } },
    { name: 'copy (deep)', ops: [{ op: 'copy', from: '/metadata/labels', path: '/spec/template/metadata' }, { op: 'add', path: '/spec/template/metadata/x', value: 'y' }], check: (d) => [d.metadata.labels, (d.spec.template as Record<string, unknown>)['metadata']], expect: [{ app: 'web' }, { app: 'web', x: 'y' }] },
    { name: 'test then replace', ops: [{ op: 'test', path: '/spec/replicas', value: 2 }, { op: 'replace', path: '/spec/replicas', value: 3 }], check: (d) => d.spec.replicas, expect: 3 },
    { name: 'test deep equality ignores key order', ops: [{ op: 'test', path: '/spec/template/spec/containers/0/env/0', value: { value: '1', name: 'A' } }], check: (d) => d.spec.replicas, expect: 2 },
    { name: 'test null passes for a missing member (kube quirk)', ops: [{ op: 'test', path: '/metadata/missing', value: null }], check: (d) => d.spec.replicas, expect: 2 },
    { name: 'empty patch', ops: [], check: (d) => d, expect: deployment() },
  ];
  for (const c of cases) {
    const doc = deployment();
    const ops = structuredClone(c.ops);
    const result = applyJsonPatch(doc, ops) as ReturnType<typeof deployment>;
    t.same(c.check(result), c.expect, c.name);
    t.same(doc, deployment(), `${c.name}: input untouched`);
    t.same(ops, c.ops, `${c.name}: ops untouched`);
  }
});

t.test('a later op cannot mutate the caller-owned value of an earlier op', async (t) => {
  const ops = [
    { op: 'add', path: '/extra', value: { a: 1 } },
    { op: 'add', path: '/extra/b', value: 2 },
  ];
  t.same(applyJsonPatch({}, ops), { extra: { a: 1, b: 2 } });
  t.same(ops[0]?.value, { a: 1 });
});

t.test('a null body is an empty patch (as kube decodes it)', async (t) => {
  t.same(applyJsonPatch({ a: 1 }, null), { a: 1 });
});

t.test('ops that cannot apply are 422 Invalid and atomic', async (t) => {
  const cases: { name: string; ops: unknown[]; detail: RegExp }[] = [
    { name: 'failed test', ops: [{ op: 'replace', path: '/spec/replicas', value: 9 }, { op: 'test', path: '/spec/replicas', value: 2 }], detail: /testing value \/spec\/replicas failed/ },
    { name: 'test of a missing member', ops: [{ op: 'test', path: '/metadata/missing', value: 'x' }], detail: /testing value/ },
    { name: 'missing intermediate', ops: [{ op: 'add', path: '/spec/nope/x', value: 1 }], detail: /doc is missing path/ },
    { name: 'remove missing member', ops: [{ op: 'remove', path: '/spec/template/spec/affinity' }], detail: /nonexistent key/ },
    { name: 'index out of range', ops: [{ op: 'replace', path: '/spec/template/spec/containers/3', value: {} }], detail: /invalid index/ },
    { name: 'add past the end', ops: [{ op: 'add', path: '/spec/template/spec/containers/2', value: {} }], detail: /invalid index/ },
    { name: 'bad array index', ops: [{ op: 'add', path: '/spec/template/spec/containers/x', value: {} }], detail: /not a proper array index/ },
    { name: 'move from missing', ops: [{ op: 'move', from: '/nope', path: '/x' }], detail: /doc is missing key/ },
    { name: 'move into itself', ops: [{ op: 'move', from: '/metadata', path: '/metadata/labels/x' }], detail: /doc is missing path/ },
    { name: 'unknown op', ops: [{ op: 'merge', path: '/a', value: 1 }], detail: /Unexpected kind: merge/ },
    { name: 'op missing', ops: [{ path: '/a', value: 1 }], detail: /Unexpected kind: unknown/ },
    { name: 'null operation', ops: [null], detail: /Unexpected kind: unknown/ },
    { name: 'missing path', ops: [{ op: 'add', value: 1 }], detail: /missing path/ },
    { name: 'missing from', ops: [{ op: 'copy', path: '/a' }], detail: /missing from/ },
    { name: 'missing value', ops: [{ op: 'add', path: '/a' }], detail: /missing value/ },
    { name: 'whole-document pointer', ops: [{ op: 'replace', path: '', value: {} }], detail: /doc is missing path/ },
    { name: 'pointer without leading slash', ops: [{ op: 'add', path: 'spec', value: {} }], detail: /doc is missing path/ },
    { name: 'path into a scalar', ops: [{ op: 'add', path: '/spec/replicas/x', value: 1 }], detail: /doc is missing path/ },
  ];
  for (const c of cases) {
    const doc = deployment();
    try {
      applyJsonPatch(doc, c.ops);
      t.fail(`${c.name}: applied`);
    } catch (err) {
      t.ok(err instanceof PatchApplyError, c.name, { error: err });
      const e = err as PatchApplyError;
      t.equal(e.code, 422);
      t.equal(e.reason, 'Invalid');
      t.equal(e.message, 'the server rejected our request due to an error in our request');
      t.match(e.detail, c.detail, `${c.name}: detail`);
      t.same(e.toStatus(), {
        kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: e.message, reason: 'Invalid',
        details: { causes: [{ reason: 'UnexpectedServerResponse', message: e.detail }] }, // why, as kube reports it
        code: 422,
      });
    }
    t.same(doc, deployment(), `${c.name}: input untouched`);
  }
});

t.test('malformed patch documents are 400, too many ops 413', async (t) => {
  const cases: { body: unknown; code: number; message: RegExp }[] = [
    { body: { op: 'add', path: '/a', value: 1 }, code: 400, message: /cannot unmarshal object into Go value of type jsonpatch\.Patch/ },
    { body: 'x', code: 400, message: /cannot unmarshal string/ },
    { body: [1], code: 400, message: /cannot unmarshal number into Go value of type jsonpatch\.Operation/ },
    { body: [[]], code: 400, message: /cannot unmarshal array/ },
    { body: Array.from({ length: 10001 }, () => ({ op: 'test', path: '/a', value: 1 })), code: 413, message: /The allowed maximum operations in a JSON patch is 10000, got 10001/ },
  ];
  for (const c of cases) {
    try {
      applyJsonPatch({ a: 1 }, c.body);
      t.fail('accepted');
    } catch (err) {
      t.ok(err instanceof ApiError && err.code === c.code && c.message.test(err.message), String(c.message), { error: err });
      if (c.code === 413) t.equal((err as ApiError).reason, 'RequestEntityTooLarge');
    }
  }
  const max = Array.from({ length: 10000 }, () => ({ op: 'test', path: '/a', value: 1 }));
  t.same(applyJsonPatch({ a: 1 }, max), { a: 1 }, 'exactly 10000 ops are fine');
});
