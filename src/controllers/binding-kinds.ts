import type { KubeObject } from '../api/object.js';
import { resourcePath } from '../client/client.js';
import type { ControllerLoop } from '../client/controller-loop.js';
import { objectKey } from '../client/informer.js';
import type { Informer, InformerHandlers } from '../client/informer.js';
import { CLUSTER_RESOURCE_BINDINGS, RESOURCE_BINDINGS } from '../karmada/gvrs.js';

/**
 * The two binding kinds every propagation controller handles alike: ResourceBindings (`rb`) and
 * ClusterResourceBindings (`crb`), queued as `rb|<namespace>/<name>` or `crb|<name>`.
 */
export type BindingKind = 'rb' | 'crb';
export const BINDING_KINDS: readonly BindingKind[] = ['rb', 'crb'];
export const BINDING_RESOURCES = { rb: RESOURCE_BINDINGS, crb: CLUSTER_RESOURCE_BINDINGS } as const;

export const bindingKey = (kind: BindingKind, binding: KubeObject): string => `${kind}|${objectKey(binding)}`;

/** Informers on both binding kinds in `loop`, each with the handlers `handlersFor` gives its kind. */
export function bindingInformers(loop: ControllerLoop<string>, handlersFor: (kind: BindingKind) => InformerHandlers): Record<BindingKind, Informer> {
  const informer = (kind: BindingKind) => loop.informer(resourcePath(BINDING_RESOURCES[kind])).addHandlers(handlersFor(kind));
  return { rb: informer('rb'), crb: informer('crb') };
}

/**
 * The handlers of controllers that look at a binding again only when its spec moves (generation),
 * or on a resync.
 */
export function onGenerationChange(enqueue: (binding: KubeObject) => void): InformerHandlers {
  return {
    onAdd: enqueue,
    onUpdate: (old, binding) => {
      if (old === binding || old.metadata.generation !== binding.metadata.generation) enqueue(binding);
    },
  };
}

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
