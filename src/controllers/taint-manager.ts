import type { Logger } from 'pino';
import { jsonEqual } from '../api/merge-patch.js';
import { isPlainObject } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import type { ApiClient } from '../client/client.js';
import { resourcePath } from '../client/client.js';
import { ControllerLoop, contextOf, LoopController } from '../client/controller-loop.js';
import type { ControllerContext } from '../client/controller-loop.js';
import type { Informer } from '../client/informer.js';
import type { ReconcileResult } from '../client/work-queue.js';
import { evictionTime, gracefulEvict } from '../karmada/eviction.js';
import { CLUSTERS } from '../karmada/gvrs.js';
import type { Placement, Taint, TargetCluster } from '../scheduler/types.js';
import { bindingInformers, bindingKey, bindingPath, onGenerationChange, parseBindingKey } from './binding-kinds.js';
import type { BindingKind } from './binding-kinds.js';

/**
 * Karmada's NoExecute taint manager (karmada-api.md §4.6): a binding placed on a cluster with a
 * NoExecute taint it does not tolerate is evicted from it — the cluster leaves spec.clusters and a
 * graceful eviction task keeps the old Work until the new placement is healthy (src/karmada/eviction.ts);
 * the scheduler then places the replicas elsewhere (it filters out clusters under eviction). A taint
 * tolerated with tolerationSeconds evicts when that time is up; tolerated without, never.
 *
 * Decision: it always runs — a NoExecute taint a user adds (`kubectl edit cluster`, karmadactl taint)
 * evicts, as NoExecute means in Kubernetes (Karmada needs its Failover gate plus
 * --enable-no-execute-taint-eviction). `--enable-failover` makes the cluster controller add NoExecute
 * taints itself to clusters unhealthy for the eviction timeout. Evictions are rate-limited
 * (Karmada's --resource-eviction-rate, default 0.5 per second).
 */

export interface TaintManagerOptions extends ControllerContext {
  /** Evictions per second (a token bucket with a burst of one); default 0.5. */
  readonly evictionRatePerSecond?: number;
  /** purgeMode of a task when the binding's failover does not say; default Gracefully. */
  readonly defaultPurgeMode?: string;
}

export class TaintManager extends LoopController {
  readonly name = 'taint-manager';
  protected readonly loop: ControllerLoop<string>;
  private readonly client: ApiClient;
  private readonly logger: Logger;
  private readonly options: TaintManagerOptions;
  private readonly clusters: Informer;
  private readonly bindings: Record<BindingKind, Informer>;
  private nextEvictionAt = 0;
  /** Evictions done, for tests and metrics. */
  readonly stats = { evictions: 0 };

  constructor(options: TaintManagerOptions) {
    super();
    this.options = options;
    this.client = options.client;
    this.logger = options.logger;
    this.loop = new ControllerLoop<string>({
      ...contextOf(options),
      name: this.name,
      workers: 1,
      queue: { qps: Infinity },
      reconcile: (key) => this.reconcile(key),
      keyField: 'binding',
    });
    const taintsOf = (cluster: KubeObject) => (isPlainObject(cluster['spec']) ? cluster['spec']['taints'] : undefined);
    this.clusters = this.loop.informer(resourcePath(CLUSTERS)).addHandlers({
      onAdd: (cluster) => this.enqueueOn(cluster.metadata.name ?? ''),
      onUpdate: (old, cluster) => {
        if (old === cluster || !jsonEqual(taintsOf(old), taintsOf(cluster))) this.enqueueOn(cluster.metadata.name ?? '');
      },
    });
    this.bindings = bindingInformers(this.loop, (kind) => onGenerationChange((binding) => this.loop.queue.add(bindingKey(kind, binding))));
  }


  private enqueueOn(cluster: string): void {
    for (const kind of ['rb', 'crb'] as const) {
      for (const binding of this.bindings[kind].list()) {
        const clusters = ((binding['spec'] as { clusters?: TargetCluster[] } | undefined)?.clusters ?? []);
        if (clusters.some((c) => c.name === cluster)) this.loop.queue.add(bindingKey(kind, binding));
      }
    }
  }

  private async reconcile(key: string): Promise<ReconcileResult> {
    const { kind, name } = parseBindingKey(key);
    const binding = this.bindings[kind].get(name);
    if (!binding || binding.metadata.deletionTimestamp) return undefined;
    const spec = (isPlainObject(binding['spec']) ? binding['spec'] : {}) as Record<string, unknown>;
    const tolerations = (spec['placement'] as Placement | undefined)?.clusterTolerations ?? undefined;
    const now = Date.now();
    let evictNow: string | undefined;
    let later: number | undefined;
    for (const target of (spec['clusters'] ?? []) as TargetCluster[]) {
      const cluster = this.clusters.get(target.name);
      const taints = (isPlainObject(cluster?.['spec']) ? (cluster['spec'] as { taints?: Taint[] }).taints : undefined) ?? [];
      const at = evictionTime(taints, tolerations, now);
      if (at === undefined) continue;
      if (at <= now) {
        evictNow = target.name;
        break;
      }
      later = later === undefined ? at : Math.min(later, at);
    }
    if (evictNow === undefined) return later !== undefined ? { requeueAfterMs: later - now + 10 } : undefined;
    // Rate limit: one eviction per 1/rate seconds across all bindings.
    const interval = 1000 / (this.options.evictionRatePerSecond ?? 0.5);
    if (now < this.nextEvictionAt) return { requeueAfterMs: this.nextEvictionAt - now };
    this.nextEvictionAt = now + interval;
    const evicted = gracefulEvict(spec, evictNow, this.options.defaultPurgeMode ?? 'Gracefully');
    if (!evicted) return undefined;
    await this.client.update(bindingPath(kind, binding), { ...binding, spec: evicted }, { signal: this.loop.signal });
    this.stats.evictions++;
    this.logger.info({ binding: key, cluster: evictNow }, 'taint manager: evicted from a cluster with an untolerated NoExecute taint');
    // More clusters of this binding may need evicting: look again.
    return { requeueAfterMs: 0 };
  }
}
