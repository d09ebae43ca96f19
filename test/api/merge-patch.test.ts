import t from 'tap';
import { applyMergePatch, createMergePatch, jsonEqual } from '../../src/api/merge-patch.js';
import { ApiError } from '../../src/api/status.js';

t.test('RFC 7386 examples and kube behaviour', async (t) => {
  const cases: { name: string; target: unknown; patch: unknown; result: unknown }[] = [
    { name: 'replace member', target: { a: 'b' }, patch: { a: 'c' }, result: { a: 'c' } },
    { name: 'add member', target: { a: 'b' }, patch: { b: 'c' }, result: { a: 'b', b: 'c' } },
    { name: 'null deletes', target: { a: 'b' }, patch: { a: null }, result: {} },
    { name: 'null for a missing member is a no-op', target: { a: 'b' }, patch: { x: null }, result: { a: 'b' } },
    { name: 'nested merge', target: { a: { b: 'c', d: 'e' } }, patch: { a: { b: null, f: 'g' } }, result: { a: { d: 'e', f: 'g' } } },
    { name: 'array replaced whole', target: { a: [{ b: 'c' }] }, patch: { a: [1] }, result: { a: [1] } },
    { name: 'scalar replaced by object, nulls inside dropped', target: { a: 'x' }, patch: { a: { b: null, c: 1 } }, result: { a: { c: 1 } } },
    { name: 'new member: nested nulls dropped', target: {}, patch: { a: { b: { c: null, d: 1 } } }, result: { a: { b: { d: 1 } } } },
    { name: 'array elements keep nulls, objects inside are pruned', target: {}, patch: { a: [null, { b: null, c: 2 }] }, result: { a: [null, { c: 2 }] } },
    { name: 'object replaced by array', target: { a: { b: 1 } }, patch: { a: ['x'] }, result: { a: ['x'] } },
    { name: 'empty patch', target: { a: 1 }, patch: {}, result: { a: 1 } },
    { name: 'non-object target is replaced', target: ['x'], patch: { a: 1, b: null }, result: { a: 1 } },
    {
      name: 'kubectl label (merge patch)',
      target: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: { app: 'x', old: 'y' } }, data: { k: 'v' } },
      patch: { metadata: { labels: { env: 'prod', old: null } } },
      result: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: { app: 'x', env: 'prod' } }, data: { k: 'v' } },
    },
    {
      name: 'merge patch replaces containers wholesale',
      target: { spec: { containers: [{ name: 'a', image: 'a:1' }, { name: 'b', image: 'b:1' }] } },
      patch: { spec: { containers: [{ name: 'a', image: 'a:2' }] } },
      result: { spec: { containers: [{ name: 'a', image: 'a:2' }] } },
    },
  ];
  for (const c of cases) {
    const target = structuredClone(c.target);
    const patch = structuredClone(c.patch);
    t.same(applyMergePatch(target, patch), c.result, c.name);
    t.same(target, c.target, `${c.name}: target untouched`);
    t.same(patch, c.patch, `${c.name}: patch untouched`);
  }
});

t.test('a patch that is not an object is 400 Invalid JSON Patch', async (t) => {
  for (const patch of [null, [1], 'x', 3, true]) {
    try {
      applyMergePatch({ a: 1 }, patch);
      t.fail(`${JSON.stringify(patch)} accepted`);
    } catch (err) {
      t.ok(err instanceof ApiError && err.code === 400 && err.message === 'Invalid JSON Patch', JSON.stringify(patch));
    }
  }
});

t.test('__proto__ members are data, not prototypes', async (t) => {
  const result = applyMergePatch({}, JSON.parse('{"__proto__":{"polluted":true}}')) as Record<string, unknown>;
  t.equal(({} as Record<string, unknown>)['polluted'], undefined);
  t.ok(Object.hasOwn(result, '__proto__'));
  t.equal(Object.getPrototypeOf(result), Object.prototype);
});

t.test('createMergePatch', async (t) => {
  const cases: { name: string; original: unknown; modified: unknown; patch: unknown }[] = [
    { name: 'no change', original: { a: 1, b: { c: [1] } }, modified: { b: { c: [1] }, a: 1 }, patch: {} },
    { name: 'changed, added and removed', original: { a: 1, b: 2 }, modified: { a: 3, c: 4 }, patch: { a: 3, c: 4, b: null } },
    { name: 'nested', original: { m: { labels: { x: '1', y: '2' } } }, modified: { m: { labels: { x: '1', z: '3' } } }, patch: { m: { labels: { z: '3', y: null } } } },
    { name: 'lists whole', original: { l: [1, 2] }, modified: { l: [1, 2, 3] }, patch: { l: [1, 2, 3] } },
    { name: 'type change', original: { a: { b: 1 } }, modified: { a: 'x' }, patch: { a: 'x' } },
    { name: 'non-objects', original: 1, modified: [2], patch: [2] },
  ];
  for (const c of cases) {
    const patch = createMergePatch(c.original, c.modified);
    t.same(patch, c.patch, c.name);
    if (typeof c.original === 'object' && !Array.isArray(c.original)) t.same(applyMergePatch(c.original, patch), c.modified, `${c.name}: round trip`);
  }
});

t.test('jsonEqual', async (t) => {
  t.ok(jsonEqual({ a: [1, { b: null }] }, { a: [1, { b: null }] }));
  t.ok(jsonEqual({ a: 1, b: 2 }, { b: 2, a: 1 }));
  t.notOk(jsonEqual({ a: 1 }, { a: 1, b: 2 }));
  t.notOk(jsonEqual([1, 2], [2, 1]));
  t.notOk(jsonEqual(null, {}));
  t.notOk(jsonEqual('1', 1));
});
