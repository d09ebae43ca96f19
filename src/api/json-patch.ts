import { ApiError, errors } from './status.js';
import { deepClone, isPlainObject } from './object.js';
import { jsonEqual, setOwn } from './merge-patch.js';

/**
 * JSON patch (RFC 6902, `application/json-patch+json`) as kube-apiserver applies it
 * (kube-api-contract.md §3): a body that is not a list of operation objects is 400, more than 10000
 * operations 413, and any operation that cannot be applied (unknown op, missing path, failed test, …)
 * 422 with kube's generic message. All-or-nothing: the input is never modified.
 *
 * kube's patch library quirks kept on purpose: `replace` of a missing object member adds it, array
 * indices may be negative (counted from the end), `test` against `null` also passes for a missing member,
 * and the whole-document pointer "" is not addressable.
 */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

/** 422 Invalid with kube's exact (generic) message; `detail` says what failed, for logs and tests. */
export class PatchApplyError extends ApiError {
  constructor(readonly detail: string) {
    // kube's wording, with the reason as a cause (what kubectl prints after the message).
    super(422, 'Invalid', 'the server rejected our request due to an error in our request', { causes: [{ reason: 'UnexpectedServerResponse', message: detail }] });
    this.name = 'PatchApplyError';
  }
}

type Container = Record<string, unknown> | unknown[];
type Operation = Record<string, unknown>;

const fail = (detail: string): never => {
  throw new PatchApplyError(detail);
};

const goType = (v: unknown) => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v === 'boolean' ? 'bool' : typeof v);

function decodeToken(token: string): string {
  return token.replace(/~[01]/g, (m) => (m === '~1' ? '/' : '~'));
}

function pointer(op: Operation, member: 'path' | 'from'): string {
  const value = op[member];
  if (typeof value !== 'string') return fail(`operation missing ${member} field`);
  return value;
}

function valueOf(op: Operation): unknown {
  if (!Object.hasOwn(op, 'value')) return fail('operation missing value field');
  return deepClone(op['value']);
}

/** An array index the way kube's patch library reads one: optionally signed digits, negative counts from the end. */
function index(token: string, size: number): number {
  const n = /^[+-]?\d+$/.test(token) ? Number(token) : NaN;
  if (!Number.isSafeInteger(n)) return fail(`value was not a proper array index: '${token}'`);
  if (n >= size || n < -size) return fail(`Unable to access invalid index: ${n}`);
  return n < 0 ? n + size : n;
}

const isContainer = (v: unknown): v is Container => Array.isArray(v) || isPlainObject(v);

/** The container holding the pointer's last token, and that token. */
function locate(doc: unknown, path: string): [Container, string] {
  if (!path.startsWith('/')) return fail(`doc is missing path: "${path}"`);
  const tokens = path.slice(1).split('/').map(decodeToken);
  const key = tokens.pop() ?? '';
  let node = doc;
  for (const token of tokens) {
    const child = Array.isArray(node) ? node[index(token, node.length)] : isPlainObject(node) && Object.hasOwn(node, token) ? node[token] : undefined;
    if (!isContainer(child)) return fail(`doc is missing path: "${path}"`);
    node = child;
  }
  if (!isContainer(node)) return fail(`doc is missing path: "${path}"`);
  return [node, key];
}

function get(container: Container, key: string, path: string): unknown {
  if (Array.isArray(container)) return container[index(key, container.length)];
  if (!Object.hasOwn(container, key)) return fail(`doc is missing key: ${path}`);
  return container[key];
}

function add(container: Container, key: string, value: unknown): void {
  if (!Array.isArray(container)) setOwn(container, key, value);
  else if (key === '-') container.push(value);
  else container.splice(index(key, container.length + 1), 0, value);
}

function remove(container: Container, key: string): void {
  if (Array.isArray(container)) container.splice(index(key, container.length), 1);
  else if (Object.hasOwn(container, key)) delete container[key];
  else fail(`Unable to remove nonexistent key: ${key}: missing value`);
}

function apply(doc: unknown, op: Operation): void {
  const kind = typeof op['op'] === 'string' ? op['op'] : 'unknown';
  switch (kind) {
    case 'add': {
      const [container, key] = locate(doc, pointer(op, 'path'));
      return add(container, key, valueOf(op));
    }
    case 'remove': {
      const [container, key] = locate(doc, pointer(op, 'path'));
      return remove(container, key);
    }
    case 'replace': {
      const path = pointer(op, 'path');
      const [container, key] = locate(doc, path);
      const value = valueOf(op);
      if (Array.isArray(container)) container[index(key, container.length)] = value;
      else setOwn(container, key, value);
      return;
    }
    case 'move':
    case 'copy': {
      const from = pointer(op, 'from');
      const [source, sourceKey] = locate(doc, from);
      const value = get(source, sourceKey, from);
      if (kind === 'move') remove(source, sourceKey);
      const [target, key] = locate(doc, pointer(op, 'path'));
      return add(target, key, kind === 'copy' ? deepClone(value) : value);
    }
    case 'test': {
      const path = pointer(op, 'path');
      const [container, key] = locate(doc, path);
      const expected = valueOf(op);
      const missingMember = !Array.isArray(container) && !Object.hasOwn(container, key);
      const actual = missingMember ? null : get(container, key, path);
      if (!jsonEqual(actual, expected)) fail(`testing value ${path} failed: test failed`);
      return;
    }
    default:
      fail(`Unexpected kind: ${kind}`);
  }
}

/** Applies an RFC 6902 patch (`ops` is the parsed request body) to a copy of `doc`. */
export function applyJsonPatch(doc: unknown, ops: unknown): unknown {
  if (ops === null) return deepClone(doc);
  if (!Array.isArray(ops)) throw errors.badRequest(`json: cannot unmarshal ${goType(ops)} into Go value of type jsonpatch.Patch`);
  for (const op of ops) {
    if (op !== null && !isPlainObject(op)) throw errors.badRequest(`json: cannot unmarshal ${goType(op)} into Go value of type jsonpatch.Operation`);
  }
  if (ops.length > MAX_JSON_PATCH_OPERATIONS) {
    throw errors.tooLarge(`The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${ops.length}`);
  }
  const result = deepClone(doc);
  for (const op of ops as (Operation | null)[]) apply(result, op ?? {});
  return result;
}
