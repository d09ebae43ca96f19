import { timestamp } from '../../api/object.js';
import { validateName } from '../../api/names.js';
import { cause } from '../../api/status.js';
import type { StatusCause } from '../../api/status.js';
import { asArray, asNumber, asObject, asString, requireString, spec, validateLabelKey, validateLabelValue } from './common.js';
import type { Obj } from './common.js';
import type { KarmadaAdmissionPlugin, KarmadaAdmissionRequest } from './plugin.js';

/**
 * Cluster admission: what Karmada's aggregated API server does to a Cluster on write besides storage
 * (karmada-api.md §1.1, §2.1) — the default resource model and its normalisation, the NoExecute
 * taint timestamps — and its validation rules. (Karmada's registry also moves a lone deprecated `zone`
 * into `zones` when canonicalising; that is not done here, so a re-applied manifest that sets `zone`
 * stays a no-op and never collides with the `zone` xor `zones` rule.)
 */
export const CLUSTER_NAME_MAX_LENGTH = 48;
const SYNC_MODES = ['Pull', 'Push'];
const TAINT_EFFECTS = ['NoExecute', 'NoSchedule'];
const PROXY_SCHEMES = ['http', 'https', 'socks5'];
const MAX_INT64 = 2n ** 63n - 1n;
const MAX_INT64_TEXT = MAX_INT64.toString();

// ---- quantities (exact, as a fraction) ----

interface Fraction {
  readonly num: bigint;
  readonly den: bigint;
}

const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;
const BINARY_SUFFIX: Readonly<Record<string, number>> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL_SUFFIX: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/** A resource.Quantity (string or number) as an exact fraction; undefined when it does not parse. */
export function parseQuantity(value: unknown): Fraction | undefined {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : typeof value === 'string' ? value.trim() : undefined;
  if (text === undefined) return undefined;
  const match = QUANTITY.exec(text);
  if (!match) return undefined;
  const [, sign = '', digits = '', suffix = ''] = match;
  const [whole = '', fraction = ''] = digits.split('.');
  let num = BigInt(`${whole || '0'}${fraction}`) * (sign === '-' ? -1n : 1n);
  let den = 10n ** BigInt(fraction.length);
  let exponent = 0;
  if (suffix in BINARY_SUFFIX) num *= 1024n ** BigInt(BINARY_SUFFIX[suffix] ?? 0);
  else if (suffix in DECIMAL_SUFFIX) exponent = DECIMAL_SUFFIX[suffix] ?? 0;
  else if (suffix) exponent = Number(suffix.slice(1));
  if (Math.abs(exponent) > 1000) return undefined;
  if (exponent > 0) num *= 10n ** BigInt(exponent);
  if (exponent < 0) den *= 10n ** BigInt(-exponent);
  return { num, den };
}

const compare = (a: Fraction, b: Fraction): number => {
  const left = a.num * b.den;
  const right = b.num * a.den;
  return left < right ? -1 : left > right ? 1 : 0;
};
const isZero = (q: Fraction): boolean => q.num === 0n;
/** Quantity.Value(): rounded up to an integer. */
const ceiling = (q: Fraction): bigint => {
  const quotient = q.num / q.den;
  return q.num % q.den !== 0n && q.num > 0n ? quotient + 1n : quotient;
};

// ---- URLs, parsed the way Go's net/url does for these checks ----

interface ParsedUrl {
  readonly scheme: string;
  readonly user: string | undefined;
  readonly host: string;
  readonly query: string;
  readonly fragment: string;
}

function parseUrl(raw: string): ParsedUrl | string {
  if (/[\x00-\x1f\x7f]/.test(raw)) return 'invalid control character in URL';
  let rest = raw;
  let fragment = '';
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    fragment = rest.slice(hash + 1);
    rest = rest.slice(0, hash);
  }
  let scheme = '';
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i] ?? '';
    if (/[a-zA-Z]/.test(c)) continue;
    if (/[0-9+.-]/.test(c)) {
      if (i === 0) break;
      continue;
    }
    if (c === ':') {
      if (i === 0) return 'missing protocol scheme';
      scheme = rest.slice(0, i).toLowerCase();
      rest = rest.slice(i + 1);
    }
    break;
  }
  let query = '';
  const question = rest.indexOf('?');
  if (question >= 0) {
    query = rest.slice(question + 1);
    rest = rest.slice(0, question);
  }
  if (!rest.startsWith('/')) {
    if (scheme) return { scheme, user: undefined, host: '', query, fragment };
    if ((rest.split('/')[0] ?? '').includes(':')) return 'first path segment in URL cannot contain colon';
  }
  let user: string | undefined;
  let host = '';
  if (rest.startsWith('//') && !rest.startsWith('///')) {
    const authority = rest.slice(2).split('/')[0] ?? '';
    const at = authority.lastIndexOf('@');
    if (at >= 0) user = authority.slice(0, at);
    host = authority.slice(at + 1);
    if (host.startsWith('[')) {
      const close = host.indexOf(']');
      if (close < 0) return "missing ']' in host";
      const port = host.slice(close + 1);
      if (port !== '' && !/^:\d*$/.test(port)) return `invalid port ${JSON.stringify(port)} after host`;
    } else {
      const colon = host.lastIndexOf(':');
      if (colon >= 0 && !/^:\d*$/.test(host.slice(colon))) return `invalid port ${JSON.stringify(host.slice(colon))} after host`;
      if (/\s/.test(host)) return `invalid character in host name ${JSON.stringify(host)}`;
    }
  }
  return { scheme, user, host, query, fragment };
}

// ---- mutation ----

const q = (name: string, min: string, max: string): Obj => ({ name, min, max });
const cpuMem = (grade: number, cpu: [string, string], memory: [string, string]): Obj => ({ grade, ranges: [q('cpu', ...cpu), q('memory', ...memory)] });

/** Karmada's default resource model: grades 0..8 by CPU cores and memory. */
export function defaultResourceModels(): Obj[] {
  const models = [cpuMem(0, ['0', '1'], ['0', '4Gi']), cpuMem(1, ['1', '2'], ['4Gi', '16Gi'])];
  for (let grade = 2; grade <= 7; grade++) {
    const memory = (gib: number): string => (gib >= 1024 ? `${gib / 1024}Ti` : `${gib}Gi`);
    models.push(cpuMem(grade, [String(2 ** (grade - 1)), String(2 ** grade)], [memory(2 ** (grade + 2)), memory(2 ** (grade + 3))]));
  }
  models.push(cpuMem(8, ['128', MAX_INT64_TEXT], ['1Ti', MAX_INT64_TEXT]));
  return models;
}

/** Sorts grades; the first grade starts at 0 and the last one ends at MaxInt64, whatever was written. */
function standardizeResourceModels(models: unknown[]): void {
  const gradeOf = (m: unknown): number => asNumber(asObject(m)?.['grade']) ?? 0;
  models.sort((a, b) => gradeOf(a) - gradeOf(b));
  for (const range of asArray(asObject(models[0])?.['ranges'])) {
    const r = asObject(range);
    if (r) r['min'] = '0';
  }
  for (const range of asArray(asObject(models[models.length - 1])?.['ranges'])) {
    const r = asObject(range);
    if (r) r['max'] = MAX_INT64_TEXT;
  }
}

function mutateCluster(request: KarmadaAdmissionRequest): void {
  const s = spec(request.object);
  if (!s) return;
  const models = s['resourceModels'];
  if (Array.isArray(models) && models.length > 0) standardizeResourceModels(models);
  else if (request.operation === 'CREATE' && (models === undefined || models === null || Array.isArray(models))) s['resourceModels'] = defaultResourceModels();
  for (const item of asArray(s['taints'])) {
    const taint = asObject(item);
    if (taint && taint['effect'] === 'NoExecute' && (taint['timeAdded'] === undefined || taint['timeAdded'] === null)) taint['timeAdded'] = timestamp();
  }
}

// ---- validation ----

function validateApiEndpoint(endpoint: string, field: string): StatusCause[] {
  const parsed = parseUrl(endpoint);
  const format = 'expected a URL such as https://hostname:port';
  if (typeof parsed === 'string') return [cause.invalid(field, endpoint, `must be a valid URL: ${parsed}; ${format}`)];
  const causes: StatusCause[] = [];
  if (parsed.host === '') causes.push(cause.invalid(field, endpoint, `must include a host; ${format}`));
  if (parsed.user !== undefined) causes.push(cause.invalid(field, endpoint, 'may not include user information'));
  if (parsed.fragment !== '') causes.push(cause.invalid(field, endpoint, 'may not include a fragment'));
  if (parsed.query !== '') causes.push(cause.invalid(field, endpoint, 'may not include query parameters'));
  return causes;
}

function validateProxyUrl(proxyUrl: string, field: string): StatusCause[] {
  const parsed = parseUrl(proxyUrl);
  if (typeof parsed === 'string') return [cause.invalid(field, proxyUrl, `must be a valid URL: ${parsed}`)];
  return PROXY_SCHEMES.includes(parsed.scheme) ? [] : [cause.invalid(field, proxyUrl, `the scheme must be one of ${PROXY_SCHEMES.join(', ')}`)];
}

function validateSecretRef(ref: unknown, field: string): StatusCause[] {
  const r = asObject(ref);
  return r ? [...requireString(r['namespace'], `${field}.namespace`), ...requireString(r['name'], `${field}.name`)] : [];
}

function validateTaints(taints: unknown, field: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const seen = new Set<string>();
  asArray(taints).forEach((item, i) => {
    const taint = asObject(item);
    if (!taint) return;
    const path = `${field}[${i}]`;
    const key = asString(taint['key']);
    const effect = asString(taint['effect']);
    causes.push(...validateLabelKey(key, `${path}.key`), ...validateLabelValue(taint['value'] ?? '', `${path}.value`));
    if (effect === '') causes.push(cause.required(`${path}.effect`));
    else if (!TAINT_EFFECTS.includes(effect)) causes.push(cause.notSupported(`${path}.effect`, effect, TAINT_EFFECTS));
    const identity = JSON.stringify([key, effect]);
    if (seen.has(identity)) causes.push({ ...cause.duplicate(path, { key, effect }), message: `Duplicate value: ${JSON.stringify({ key, effect })}: taints must be unique by key and effect` });
    seen.add(identity);
  });
  return causes;
}

function validateResourceModels(models: unknown, field: string): StatusCause[] {
  const list = asArray(models);
  const causes: StatusCause[] = [];
  const grades = new Set<number>();
  let previous: { ranges: readonly unknown[] } | undefined;
  list.forEach((item, i) => {
    const model = asObject(item);
    if (!model) return;
    const path = `${field}[${i}]`;
    const grade = asNumber(model['grade']);
    if (grade !== undefined) {
      if (grades.has(grade)) causes.push(cause.duplicate(`${path}.grade`, grade));
      grades.add(grade);
    }
    const ranges = asArray(model['ranges']);
    if (previous && previous.ranges.length !== ranges.length) {
      causes.push(cause.invalid(`${path}.ranges`, ranges.length, `every grade must have ranges for the same resources (the grade before has ${previous.ranges.length})`));
      previous = { ranges };
      return;
    }
    ranges.forEach((rangeItem, j) => {
      const range = asObject(rangeItem);
      if (!range) return;
      const rangePath = `${path}.ranges[${j}]`;
      const min = parseQuantity(range['min']);
      const max = parseQuantity(range['max']);
      if (!min) causes.push(cause.invalid(`${rangePath}.min`, range['min'], 'must be a quantity'));
      if (!max) causes.push(cause.invalid(`${rangePath}.max`, range['max'], 'must be a quantity'));
      if (!min || !max) return;
      if (compare(max, min) <= 0) causes.push(cause.invalid(`${rangePath}.max`, range['max'], `must be greater than min (${String(range['min'])})`));
      const before = asObject(previous?.ranges[j]);
      if (i === 0 || !previous) {
        if (!isZero(min)) causes.push(cause.invalid(`${rangePath}.min`, range['min'], 'must be 0 in the first grade'));
      } else if (before && asString(before['name']) !== asString(range['name'])) {
        causes.push(cause.invalid(`${rangePath}.name`, range['name'], `every grade must list the same resources in the same order (expected ${JSON.stringify(before['name'])})`));
      } else if (before) {
        const beforeMax = parseQuantity(before['max']);
        if (beforeMax && compare(beforeMax, min) !== 0) {
          causes.push(cause.invalid(`${rangePath}.min`, range['min'], `must equal the max of the grade before (${String(before['max'])}): grades must be contiguous and may not overlap`));
        }
      }
      if (i === list.length - 1 && ceiling(max) !== MAX_INT64) causes.push(cause.invalid(`${rangePath}.max`, range['max'], `must be ${MAX_INT64_TEXT} in the last grade`));
    });
    previous = { ranges };
  });
  return causes;
}

function validateCluster(request: KarmadaAdmissionRequest): StatusCause[] {
  const { object } = request;
  const causes: StatusCause[] = [];
  const name = object.metadata.name ?? '';
  if (name.length > CLUSTER_NAME_MAX_LENGTH) causes.push(cause.invalid('metadata.name', name, `must be no more than ${CLUSTER_NAME_MAX_LENGTH} characters`));
  else if (name !== '') causes.push(...validateName(name, 'label'));

  const s = spec(object);
  if (!s) return causes;
  const syncMode = asString(s['syncMode']);
  if (syncMode === '') causes.push(cause.required('spec.syncMode'));
  else if (!SYNC_MODES.includes(syncMode)) causes.push(cause.notSupported('spec.syncMode', syncMode, SYNC_MODES));
  const endpoint = asString(s['apiEndpoint']);
  if (endpoint) causes.push(...validateApiEndpoint(endpoint, 'spec.apiEndpoint'));
  causes.push(...validateSecretRef(s['secretRef'], 'spec.secretRef'), ...validateSecretRef(s['impersonatorSecretRef'], 'spec.impersonatorSecretRef'));
  const proxyUrl = asString(s['proxyURL']);
  if (proxyUrl) causes.push(...validateProxyUrl(proxyUrl, 'spec.proxyURL'));

  causes.push(...validateLabelValue(s['provider'], 'spec.provider'), ...validateLabelValue(s['region'], 'spec.region'));
  const zone = asString(s['zone']);
  const zones = asArray(s['zones']);
  if (zone && zones.length > 0) causes.push(cause.forbidden('spec.zones', 'may not be set together with the deprecated zone'));
  else if (zone) causes.push(...validateLabelValue(zone, 'spec.zone'));
  else zones.forEach((value, i) => causes.push(...validateLabelValue(value, `spec.zones[${i}]`)));

  causes.push(...validateTaints(s['taints'], 'spec.taints'), ...validateResourceModels(s['resourceModels'], 'spec.resourceModels'));
  return causes;
}

export const clusterAdmission: KarmadaAdmissionPlugin = {
  mutate: mutateCluster,
  validate: validateCluster,
};
