import type { Logger } from 'pino';
import { jsonEqual } from '../api/merge-patch.js';
import { isPlainObject } from '../api/object.js';
import type { ApiClient } from '../client/client.js';
import { ControllerLoop, contextOf, LoopController } from '../client/controller-loop.js';
import type { ControllerContext } from '../client/controller-loop.js';
import type { Informer } from '../client/informer.js';
import type { ReconcileResult } from '../client/work-queue.js';
import { assessEvictionTasks, DEFAULT_GRACEFUL_EVICTION_TIMEOUT_MS } from '../karmada/eviction.js';
import { bindingInformers, bindingKey, bindingPath, parseBindingKey } from './binding-kinds.js';
import type { BindingKind } from './binding-kinds.js';

/**
 * Karmada's graceful eviction controllers (karmada-api.md §4.6): a binding's graceful eviction tasks
 * get their creationTimestamp, and each task goes once the new placement is healthy (scheduled for the
 * binding's generation, every scheduled cluster Healthy in status.aggregatedStatus) or its grace period
 * (gracePeriodSeconds, else `--graceful-eviction-timeout`, default 10 min) is over; then the binding
 * controller deletes the evicted cluster's Work. suppressDeletion: true keeps a task. One write per
 * decision; a binding with tasks is looked at again when the earliest timeout ends.
 */

export interface GracefulEvictionControllerOptions extends ControllerContext {
  /** Default grace period of a task without gracePeriodSeconds; default 10 min. */
  readonly gracefulEvictionTimeoutMs?: number;
}

const tasksOf = (binding: { [key: string]: unknown }): unknown[] => {
  const spec = binding['spec'];
  return isPlainObject(spec) && Array.isArray(spec['gracefulEvictionTasks']) ? spec['gracefulEvictionTasks'] : [];
};

export class GracefulEvictionController extends LoopController {
  readonly name = 'graceful-eviction';
  protected readonly loop: ControllerLoop<string>;
  private readonly client: ApiClient;
  private readonly logger: Logger;
  private readonly options: GracefulEvictionControllerOptions;
  private readonly bindings: Record<BindingKind, Informer>;

  constructor(options: GracefulEvictionControllerOptions) {
    super();
    this.options = options;
    this.client = options.client;
    this.logger = options.logger;
    this.loop = new ControllerLoop<string>({
      ...contextOf(options),
      name: this.name,
      workers: 2,
      queue: { qps: Infinity },
      reconcile: (key) => this.reconcile(key),
      keyField: 'binding',
    });
    this.bindings = bindingInformers(this.loop, (kind) => ({
      onAdd: (binding) => {
        if (tasksOf(binding).length > 0) this.loop.queue.add(bindingKey(kind, binding));
      },
      onUpdate: (old, binding) => {
        if (tasksOf(binding).length > 0 && (old === binding || !jsonEqual(old['spec'], binding['spec']) || !jsonEqual(old['status'], binding['status']))) this.loop.queue.add(bindingKey(kind, binding));
      },
    }));
  }


  private async reconcile(key: string): Promise<ReconcileResult> {
    const { kind, name } = parseBindingKey(key);
    const binding = this.bindings[kind].get(name);
    if (!binding || binding.metadata.deletionTimestamp || tasksOf(binding).length === 0) return undefined;
    const now = Date.now();
    const assessment = assessEvictionTasks(binding, now, this.options.gracefulEvictionTimeoutMs ?? DEFAULT_GRACEFUL_EVICTION_TIMEOUT_MS);
    const spec = binding['spec'] as Record<string, unknown>;
    if (!jsonEqual(assessment.kept, spec['gracefulEvictionTasks'])) {
      const next: Record<string, unknown> = { ...spec };
      if (assessment.kept.length > 0) next['gracefulEvictionTasks'] = assessment.kept;
      else delete next['gracefulEvictionTasks'];
      await this.client.update(bindingPath(kind, binding), { ...binding, spec: next }, { signal: this.loop.signal });
      if (assessment.removed.length > 0) this.logger.info({ binding: key, clusters: assessment.removed }, 'graceful eviction: tasks done');
    }
    return assessment.nextCheckAt !== undefined ? { requeueAfterMs: Math.max(0, assessment.nextCheckAt - now) + 10 } : undefined;
  }
}
