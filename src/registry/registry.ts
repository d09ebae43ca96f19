import type { ResourceDefinition } from './resource.js';

/**
 * Every resource the server serves, looked up the ways requests need: by URL (group, version,
 * plural) and by kind. Definitions can come and go at run time (CRDs); listeners hear about it so
 * discovery and OpenAPI caches can be rebuilt.
 */
export class ResourceRegistry {
  private readonly byPlural = new Map<string, ResourceDefinition>();
  private readonly listeners = new Set<() => void>();

  constructor(definitions: Iterable<ResourceDefinition> = []) {
    for (const def of definitions) this.byPlural.set(pluralKey(def.group, def.plural), def);
  }

  /** The definition serving `/apis/<group>/<version>/<plural>`, if that version is served. */
  find(group: string, version: string, plural: string): ResourceDefinition | undefined {
    const def = this.byPlural.get(pluralKey(group, plural));
    return def && def.versions.includes(version) ? def : undefined;
  }

  findKind(group: string, kind: string): ResourceDefinition | undefined {
    for (const def of this.byPlural.values()) if (def.group === group && def.kind === kind) return def;
    return undefined;
  }

  all(): ResourceDefinition[] {
    return [...this.byPlural.values()];
  }

  /** Groups with their served versions, in discovery order (core first, then by registration). */
  groups(): { group: string; versions: string[] }[] {
    const groups = new Map<string, Set<string>>();
    for (const def of this.byPlural.values()) {
      const versions = groups.get(def.group) ?? new Set<string>();
      for (const v of def.versions) versions.add(v);
      groups.set(def.group, versions);
    }
    return [...groups].map(([group, versions]) => ({ group, versions: [...versions] }));
  }

  /** Resources served at group/version, in registration order. */
  inGroupVersion(group: string, version: string): ResourceDefinition[] {
    return this.all().filter((def) => def.group === group && def.versions.includes(version));
  }

  add(def: ResourceDefinition): void {
    this.byPlural.set(pluralKey(def.group, def.plural), def);
    this.changed();
  }

  remove(group: string, plural: string): ResourceDefinition | undefined {
    const key = pluralKey(group, plural);
    const def = this.byPlural.get(key);
    if (def) {
      this.byPlural.delete(key);
      this.changed();
    }
    return def;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}

const pluralKey = (group: string, plural: string): string => `${group}/${plural}`;
