import type { KubeObject } from '../../api/object.js';
import { ApiError } from '../../api/status.js';
import type { SchemaObject } from '../../openapi/schemas.js';
import type { StoreLogger } from '../../../storage/logger.js';
import type { ObjectStore } from '../object-store.js';
import type { ResourceRegistry } from '../registry.js';
import type { ResourceDefinition } from '../resource.js';
import { keyPrefix } from '../resource.js';
import { readAll } from '../codec.js';
import { CRD_CLEANUP_FINALIZER, definitionFromCrd, schemasFromCrd, validateCrd } from './crd-definition.js';

/**
 * Serves every established CRD: follows the CRD watch cache and adds (or removes) the custom
 * resource's definition and schemas. A CRD being deleted stops serving, its custom resources are
 * deleted, then its cleanup finalizer is removed so it goes too.
 */
/** How long a request waits for a CRD written a moment ago to be served. */
const CAUGHT_UP_WAIT_MS = 100;

export class CrdServing {
  private readonly registry: ResourceRegistry;
  private readonly objects: ObjectStore;
  private readonly crdDef: ResourceDefinition;
  private readonly logger: StoreLogger;
  private readonly served = new Map<string, { def: ResourceDefinition; schemas: Map<string, SchemaObject> }>();
  private readonly cleanups = new Map<string, Promise<void>>();
  private schemaMap: ReadonlyMap<string, SchemaObject> = new Map();
  private unsubscribe: (() => void) | undefined;

  constructor(registry: ResourceRegistry, objects: ObjectStore, logger: StoreLogger) {
    this.registry = registry;
    this.objects = objects;
    this.logger = logger;
    const crdDef = registry.find('apiextensions.k8s.io', 'v1', 'customresourcedefinitions');
    if (!crdDef) throw new Error('the CustomResourceDefinition resource is not registered');
    this.crdDef = crdDef;
  }

  /** Schemas of every served custom resource version; a new Map whenever anything changes. */
  get schemas(): ReadonlyMap<string, SchemaObject> {
    return this.schemaMap;
  }

  async start(): Promise<void> {
    const cache = this.objects.cache(this.crdDef);
    await cache.ready;
    const { objects, revision } = cache.snapshot();
    for (const crd of objects) this.apply(crd);
    this.unsubscribe = await cache.watch(revision, {
      onEvent: (event) => {
        // One CRD that cannot be served must not stop the others from being followed.
        try {
          if (event.type === 'DELETED') this.remove(event.object);
          else this.apply(event.object);
        } catch (err) {
          this.logger.error({ crd: event.object.metadata.name, err: String(err) }, 'serving a CustomResourceDefinition failed');
        }
      },
      onError: (err) => this.logger.error({ err: String(err) }, 'CRD watch failed'),
    });
  }

  stop(): void {
    this.unsubscribe?.();
  }

  /**
   * Waits until every CRD written so far is being served (before discovery, and before answering a
   * request for a resource we do not know): the watch caches — the CRD one among them — have seen
   * every committed write.
   */
  async caughtUp(): Promise<void> {
    await this.objects.caughtUp(CAUGHT_UP_WAIT_MS);
  }

  private apply(crd: KubeObject): void {
    const name = crd.metadata.name as string;
    if (crd.metadata.deletionTimestamp) {
      this.remove(crd);
      if (!this.cleanups.has(name)) {
        const cleanup = this.cleanUp(crd).finally(() => this.cleanups.delete(name));
        this.cleanups.set(name, cleanup);
      }
      return;
    }
    if (validateCrd(crd).length > 0) return;
    const def = definitionFromCrd(crd);
    const existing = this.registry.find(def.group, def.versions[0] as string, def.plural) ?? this.registry.all().find((d) => d.group === def.group && d.plural === def.plural);
    if (existing && existing.fromCrd !== name) {
      this.logger.warn({ crd: name }, 'CRD conflicts with a resource already served; not serving it');
      return;
    }
    this.served.set(name, { def, schemas: schemasFromCrd(crd) });
    this.rebuildSchemas();
    this.registry.add(def);
  }

  private remove(crd: KubeObject): void {
    const name = crd.metadata.name as string;
    const served = this.served.get(name);
    if (!served) return;
    this.served.delete(name);
    this.registry.remove(served.def.group, served.def.plural);
    this.rebuildSchemas();
  }

  private rebuildSchemas(): void {
    const merged = new Map<string, SchemaObject>();
    for (const { schemas } of this.served.values()) for (const [key, schema] of schemas) merged.set(key, schema);
    this.schemaMap = merged;
  }

  /** Deletes every custom resource of a CRD being deleted, then lets the CRD go. */
  private async cleanUp(crd: KubeObject): Promise<void> {
    const name = crd.metadata.name as string;
    const def = definitionFromCrd(crd);
    for (let attempt = 0; attempt < 600; attempt++) {
      const { entries } = await readAll(this.objects.store, keyPrefix(def));
      if (entries.length === 0) break;
      for (const [, object] of entries) {
        await this.objects.delete(def, object.metadata.namespace, object.metadata.name as string).catch((err: unknown) => {
          if (!(err instanceof ApiError && err.code === 404)) this.logger.warn({ crd: name, err: String(err) }, 'deleting a custom resource failed');
        });
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 2_000))); // finalizers may hold some
    }
    this.objects.dropCache(def);
    await this.objects.guaranteedUpdate(this.crdDef, undefined, name, (current) => ({
      ...current,
      metadata: { ...current.metadata, finalizers: (current.metadata.finalizers ?? []).filter((f) => f !== CRD_CLEANUP_FINALIZER) },
    }), { fieldManager: 'apiextensions-apiserver' }).catch((err: unknown) => {
      if (!(err instanceof ApiError && err.code === 404)) this.logger.error({ crd: name, err: String(err) }, 'removing the CRD cleanup finalizer failed');
    });
  }
}
