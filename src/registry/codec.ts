import type { KubeObject } from '../api/object.js';
import type { KeyValue, Store } from '../../storage/types.js';

/**
 * Objects are stored as JSON without their resourceVersion: the store's modRevision is the
 * resourceVersion, filled in on every read (as kube-apiserver does with etcd).
 */
export function encodeObject(object: KubeObject): Buffer {
  if (object.metadata.resourceVersion === undefined) return Buffer.from(JSON.stringify(object)); // nothing to leave out
  const { resourceVersion: _ignored, ...metadata } = object.metadata;
  return Buffer.from(JSON.stringify({ ...object, metadata }));
}

/**
 * A new object (no resourceVersion yet) encoded for storage, and the JSON to answer with once the
 * store has given it a resourceVersion — made from the stored text, not by serializing again.
 */
export class EncodedNewObject {
  readonly bytes: Buffer;
  private readonly object: KubeObject;
  private readonly text: string;
  /** Where metadata's closing brace is in `text`; -1 when the plain way must be taken. */
  private readonly metadataEnd: number;

  constructor(object: KubeObject) {
    this.object = object;
    let text = '{';
    let metadataEnd = -1;
    // Nothing on the create path leaves a resourceVersion in; should something, the plain way is right.
    if (object.metadata.resourceVersion === undefined) {
      // The members one by one, as JSON.stringify would write them, noting where metadata ends.
      for (const key of Object.keys(object)) {
        const value = JSON.stringify(object[key]);
        if (value === undefined) continue;
        text += `${text.length > 1 ? ',' : ''}${JSON.stringify(key)}:${value}`;
        if (key === 'metadata' && value.endsWith('}')) metadataEnd = text.length - 1;
      }
      text += '}';
    }
    this.text = text;
    this.metadataEnd = metadataEnd;
    this.bytes = metadataEnd >= 0 ? Buffer.from(text) : encodeObject(object);
  }

  /**
   * The object's JSON with metadata.resourceVersion added last: the text JSON.stringify makes of
   * `{ ...object, metadata: { ...object.metadata, resourceVersion } }`.
   */
  withResourceVersion(resourceVersion: string): string {
    const end = this.metadataEnd;
    if (end < 0) return JSON.stringify({ ...this.object, metadata: { ...this.object.metadata, resourceVersion } });
    const field = `"resourceVersion":${JSON.stringify(resourceVersion)}`;
    return `${this.text.slice(0, end)}${this.text[end - 1] === '{' ? '' : ','}${field}${this.text.slice(end)}`;
  }
}

export function decodeObject(kv: KeyValue): KubeObject {
  const object = JSON.parse(Buffer.from(kv.value.buffer, kv.value.byteOffset, kv.value.byteLength).toString('utf8')) as KubeObject;
  object.metadata = { ...object.metadata, resourceVersion: String(kv.modRevision) };
  return object;
}

/** Every object under `prefix` with its key, read page by page at one revision (`revision` absent: the current one). */
export async function readAll(store: Store, prefix: string, revision?: number): Promise<{ entries: [string, KubeObject][]; revision: number }> {
  const entries: [string, KubeObject][] = [];
  let token: string | undefined;
  let at = revision ?? 0;
  do {
    const page = await store.list(prefix, { limit: 1000, ...(token ? { continue: token } : revision !== undefined ? { revision } : {}) });
    at = page.revision;
    for (const kv of page.items) entries.push([kv.key, decodeObject(kv)]);
    token = page.continue;
  } while (token);
  return { entries, revision: at };
}
