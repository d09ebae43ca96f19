/**
 * Template hashes: a stable FNV-1a hash of an object's canonical JSON (keys sorted), written with
 * kube's "safe" alphabet (rand.SafeEncodeString: no vowels, no look-alike characters) so the result
 * can sit in names and label values. Like kube's ComputeHash, a collision count is mixed in, so a
 * controller that finds its name taken by a foreign object can move on to another hash.
 */
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function computeHash(value: unknown, collisionCount?: number): string {
  let text = canonicalJson(value);
  if (collisionCount !== undefined && collisionCount > 0) text += `#${collisionCount}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  // Ten decimal digits of the 32-bit hash, each mapped onto the alphabet: always 10 characters.
  const digits = String(hash).padStart(10, '0');
  let out = '';
  for (const digit of digits) out += SAFE_ALPHABET[Number(digit) % SAFE_ALPHABET.length];
  return out;
}

/**
 * JSON with object keys sorted at every level, for hashing and comparing. Members that a typed
 * (Go) round trip cannot tell from absent are dropped: null, {} and [] (e.g. the
 * `metadata.creationTimestamp: null` that `kubectl rollout undo` writes into a template), so two
 * templates kube would call equal have the same form.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .map(([k, v]): [string, string] | undefined => {
      if (v === undefined || v === null) return undefined;
      const text = canonicalJson(v);
      return text === '{}' || text === '[]' ? undefined : [k, text];
    })
    .filter((e): e is [string, string] => e !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
}

