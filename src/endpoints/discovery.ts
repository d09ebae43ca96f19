import { createHash } from 'node:crypto';
import type { ResourceRegistry } from '../registry/registry.js';
import type { ResourceDefinition, Verb } from '../registry/resource.js';
import { groupVersion } from '../registry/resource.js';

/**
 * Discovery documents, all derived from the registry (kube-api-contract.md §1): /api, /apis,
 * /apis/<g>, /apis/<g>/<v>, /api/v1, and aggregated discovery (apidiscovery.k8s.io v2 / v2beta1).
 */
const SUBRESOURCE_VERBS: Record<string, Verb[]> = { status: ['get', 'patch', 'update'], scale: ['get', 'patch', 'update'], finalize: ['update'] };

export function apiVersions(serverAddress: string): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function apiGroup(registry: ResourceRegistry, group: string): object | undefined {
  const entry = registry.groups().find((g) => g.group === group);
  if (!entry || group === '') return undefined;
  const versions = entry.versions.map((version) => ({ groupVersion: groupVersion(group, version), version }));
  return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions, preferredVersion: versions[0] };
}

export function apiGroupList(registry: ResourceRegistry): object {
  const groups = registry.groups().filter((g) => g.group !== '').map((g) => {
    const { kind: _k, apiVersion: _a, ...rest } = apiGroup(registry, g.group) as Record<string, unknown>;
    return rest;
  });
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

export function apiGroupDocument(registry: ResourceRegistry, group: string): object | undefined {
  return apiGroup(registry, group);
}

/** The subresources a definition serves, e.g. ["status", "scale"]. */
export function subresourcesOf(def: ResourceDefinition): string[] {
  return [...(def.statusSubresource ? ['status'] : []), ...(def.scaleSubresource ? ['scale'] : []), ...(def.otherSubresources ?? [])];
}

function storageVersionHash(def: ResourceDefinition): string {
  return createHash('sha256').update(`${def.group}/${def.versions[0]}/${def.kind}`).digest('base64').slice(0, 11);
}

export function apiResourceList(registry: ResourceRegistry, group: string, version: string): object | undefined {
  const defs = registry.inGroupVersion(group, version);
  if (defs.length === 0) return undefined;
  const resources: object[] = [];
  for (const def of defs) {
    resources.push({
      name: def.plural,
      singularName: def.singular,
      namespaced: def.namespaced,
      kind: def.kind,
      verbs: [...def.verbs],
      ...(def.shortNames?.length ? { shortNames: [...def.shortNames] } : {}),
      ...(def.categories?.length ? { categories: [...def.categories] } : {}),
      storageVersionHash: storageVersionHash(def),
    });
    for (const sub of subresourcesOf(def)) {
      const scale = sub === 'scale';
      resources.push({
        name: `${def.plural}/${sub}`,
        singularName: '',
        namespaced: def.namespaced,
        ...(scale ? { group: 'autoscaling', version: 'v1', kind: 'Scale' } : { kind: def.kind }),
        verbs: SUBRESOURCE_VERBS[sub] ?? ['get'],
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion(group, version), resources };
}

/** Aggregated discovery: every group (or just core, for /api) with every version's resources. */
export function aggregatedDiscovery(registry: ResourceRegistry, core: boolean, version: 'v2' | 'v2beta1'): object {
  const items = registry.groups().filter((g) => (g.group === '') === core).map((g) => ({
    metadata: { name: g.group, creationTimestamp: null },
    versions: g.versions.map((v) => ({
      version: v,
      freshness: 'Current',
      resources: registry.inGroupVersion(g.group, v).map((def) => ({
        resource: def.plural,
        responseKind: { group: def.group, version: v, kind: def.kind },
        scope: def.namespaced ? 'Namespaced' : 'Cluster',
        singularResource: def.singular,
        verbs: [...def.verbs],
        ...(def.shortNames?.length ? { shortNames: [...def.shortNames] } : {}),
        ...(def.categories?.length ? { categories: [...def.categories] } : {}),
        ...(subresourcesOf(def).length
          ? {
              subresources: subresourcesOf(def).map((sub) => ({
                subresource: sub,
                responseKind: sub === 'scale' ? { group: 'autoscaling', version: 'v1', kind: 'Scale' } : { group: def.group, version: v, kind: def.kind },
                verbs: SUBRESOURCE_VERBS[sub] ?? ['get'],
              })),
            }
          : {}),
      })),
    })),
  }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items };
}

export const aggregatedContentType = (version: 'v2' | 'v2beta1'): string => `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`;
