import { ApiError } from '../api/status.js';
import type { ObjectStore } from '../registry/object-store.js';
import type { ResourceRegistry } from '../registry/registry.js';

/** The namespaces every cluster has, created on start as kube-apiserver's bootstrap does. */
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export async function bootstrapNamespaces(objects: ObjectStore, registry: ResourceRegistry, extra: readonly string[] = []): Promise<void> {
  const def = registry.find('', 'v1', 'namespaces');
  if (!def) return;
  for (const name of [...SYSTEM_NAMESPACES, ...extra]) {
    try {
      await objects.create(def, undefined, { metadata: { name } }, { fieldManager: 'kube-apiserver' });
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
    }
  }
}
