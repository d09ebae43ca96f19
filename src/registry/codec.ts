import type { KubeObject } from '../api/object.js';
import type { KeyValue, Store } from '../../storage/types.js';

/**
 * Objects are stored as JSON without their resourceVersion: the store's modRevision is the
 * resourceVersion, filled in on every read (as kube-apiserver does with etcd).
 */
export function encodeObject(object: KubeObject): Buffer {
  const { resourceVersion: _ignored, ...metadata } = object.metadata;
  return Buffer.from(JSON.stringify({ ...object, metadata }));
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
