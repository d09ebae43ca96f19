import type { ApiClient } from './client.js';

/**
 * Kind → resource (client-go's RESTMapper, from discovery): which plural a `apiVersion`/`kind` is
 * served as and whether it is namespaced. Discovery is read once and again when a kind is not found
 * (a CRD may just have appeared), at most every `refreshMs`.
 */
export interface ResourceMapping {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly kind: string;
  readonly namespaced: boolean;
  /** Its subresources ("status", "scale"…). */
  readonly subresources: readonly string[];
}

export interface RestMapperOptions {
  /** The shortest time between two discoveries triggered by unknown kinds; default 2 s. */
  readonly refreshMs?: number;
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

export class RestMapper {
  private readonly client: ApiClient;
  private readonly refreshMs: number;
  private mappings = new Map<string, ResourceMapping>();
  private loadedAt = -Infinity;
  private loading: Promise<void> | undefined;

  constructor(client: ApiClient, options: RestMapperOptions = {}) {
    this.client = client;
    this.refreshMs = options.refreshMs ?? 2_000;
  }

  /** The mapping of `apiVersion`/`kind`, or undefined when the server does not serve it. */
  async mapping(apiVersion: string, kind: string, signal?: AbortSignal): Promise<ResourceMapping | undefined> {
    const key = `${apiVersion}|${kind}`;
    const known = this.mappings.get(key);
    if (known) return known;
    if (this.loading) await this.loading;
    else if (Date.now() - this.loadedAt >= this.refreshMs) await this.load(signal);
    return this.mappings.get(key);
  }

  /** Forgets everything (e.g. after a CRD is deleted); the next lookup rediscovers. */
  reset(): void {
    this.loadedAt = -Infinity;
  }

  private load(signal?: AbortSignal): Promise<void> {
    this.loading ??= (async () => {
      try {
        const resources = await this.client.discover({ allVersions: true, ...(signal ? { signal } : {}) });
        const mappings = new Map<string, ResourceMapping>();
        for (const r of resources) {
          const apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
          mappings.set(`${apiVersion}|${r.kind}`, { group: r.group, version: r.version, resource: r.resource, kind: r.kind, namespaced: r.namespaced, subresources: r.subresources });
        }
        this.mappings = mappings;
        this.loadedAt = Date.now();
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }
}
