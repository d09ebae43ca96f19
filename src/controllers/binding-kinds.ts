import type { KubeObject } from '../api/object.js';
import { resourcePath } from '../client/client.js';
import { objectKey } from '../client/informer.js';
import { CLUSTER_RESOURCE_BINDINGS, RESOURCE_BINDINGS } from '../karmada/gvrs.js';

/**
 * The two binding kinds every propagation controller handles alike: ResourceBindings (`rb`) and
 * ClusterResourceBindings (`crb`), queued as `rb|<namespace>/<name>` or `crb|<name>`.
 */
export type BindingKind = 'rb' | 'crb';
export const BINDING_KINDS: readonly BindingKind[] = ['rb', 'crb'];
export const BINDING_RESOURCES = { rb: RESOURCE_BINDINGS, crb: CLUSTER_RESOURCE_BINDINGS } as const;

export const bindingKey = (kind: BindingKind, binding: KubeObject): string => `${kind}|${objectKey(binding)}`;

/** The kind and informer key (`namespace/name` or `name`) of a queue key. */
export function parseBindingKey(key: string): { kind: BindingKind; name: string } {
  const bar = key.indexOf('|');
  return { kind: key.slice(0, bar) as BindingKind, name: key.slice(bar + 1) };
}

/** The binding's API path (or its subresource's). */
export function bindingPath(kind: BindingKind, binding: KubeObject, subresource?: string): string {
  const path = resourcePath(BINDING_RESOURCES[kind], binding.metadata.namespace, binding.metadata.name);
  return subresource ? `${path}/${subresource}` : path;
}
