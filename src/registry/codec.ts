import type { KubeObject } from '../api/object.js';
import type { KeyValue } from '../../storage/types.js';

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
