import { jsonEqual } from '../api/merge-patch.js';
import { isPlainObject, timestamp } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import type { ApiClient } from '../client/client.js';
import { isApiError, resourcePath } from '../client/client.js';
import { ControllerLoop, contextOf, LoopController } from '../client/controller-loop.js';
import type { ControllerContext } from '../client/controller-loop.js';
import type { Informer } from '../client/informer.js';
import { LabelIndex } from '../client/label-index.js';
import { RestMapper } from '../client/rest-mapper.js';
import { CLUSTER_RESOURCE_BINDING_ID_LABEL, RESOURCE_BINDING_ID_LABEL } from '../karmada/admission/binding.js';
import { WORKS } from '../karmada/gvrs.js';
import { aggregateTemplateStatus, aggregatedStatusItems, fullyAppliedCondition } from '../karmada/status-aggregation.js';
import type { Condition } from './cluster-controller.js';
import { upsertCondition } from './conditions.js';
import { bindingTargets, clustersKeptByEviction } from './binding-controller.js';
import { owningBindingKey } from './work-writer.js';
import { bindingInformers, bindingKey, bindingPath, onGenerationChange, parseBindingKey } from './binding-kinds.js';
import type { BindingKind } from './binding-kinds.js';

/**
 * Karmada's binding status controllers (karmada-api.md §2.5, §4.4): a binding's Works are gathered into
 * `status.aggregatedStatus` (one item per cluster: applied or not and why, the reflected status and the
 * health of the template's manifest) with the `FullyApplied` condition; then the items are summed onto
 * the resource template's status subresource (src/karmada/status-aggregation.ts), so `kubectl get deploy`
 * and `kubectl rollout status` against the control plane tell the truth about every member cluster.
 * Each write happens only when something changed.
 */
const ID_LABELS = { rb: RESOURCE_BINDING_ID_LABEL, crb: CLUSTER_RESOURCE_BINDING_ID_LABEL } as const;

export interface BindingStatusControllerOptions extends ControllerContext {
  /** Concurrent reconciles; default 4. */
  readonly workers?: number;
  /** How long Work changes of one binding are gathered before its status is computed; default 50 ms. */
  readonly coalesceMs?: number;
}

export class BindingStatusController extends LoopController {
  readonly name = 'binding-status';
  protected readonly loop: ControllerLoop<string>;
  private readonly client: ApiClient;
  private readonly mapper: RestMapper;
  private readonly bindings: Record<BindingKind, Informer>;
  private readonly worksByBinding: LabelIndex;
  /** Binding and template status writes, for `bench propagation`. */
  readonly stats = { bindingWrites: 0, templateWrites: 0 };

  constructor(options: BindingStatusControllerOptions) {
    super();
    this.client = options.client;
    this.mapper = new RestMapper(options.client);
    this.loop = new ControllerLoop<string>({
      ...contextOf(options),
      name: this.name,
      workers: options.workers ?? 4,
      queue: { qps: Infinity },
      reconcile: (key) => this.reconcile(key),
      keyField: 'binding',
    });
    this.bindings = bindingInformers(this.loop, (kind) => onGenerationChange((binding) => this.loop.queue.add(bindingKey(kind, binding))));
    const works = this.loop.informer(resourcePath(WORKS));
    this.worksByBinding = new LabelIndex(works, [RESOURCE_BINDING_ID_LABEL, CLUSTER_RESOURCE_BINDING_ID_LABEL]);
    // A binding's Works report in bursts (every cluster, Applied then manifest status): gather a burst
    // into one reconcile (the queue keeps one pending entry per key) instead of a status write each.
    const workChanged = (work: KubeObject) => {
      const key = owningBindingKey(work);
      if (key) this.loop.queue.addAfter(key, options.coalesceMs ?? 50);
    };
    works.addHandlers({
      onAdd: workChanged,
      onUpdate: (old, work) => {
        if (old === work || !jsonEqual(old['status'], work['status'])) workChanged(work);
      },
      onDelete: workChanged,
    });
  }


  private async reconcile(key: string): Promise<void> {
    const { kind, name } = parseBindingKey(key);
    const binding = this.bindings[kind].get(name);
    if (!binding || binding.metadata.deletionTimestamp) return;
    const id = binding.metadata.labels?.[ID_LABELS[kind]];
    if (!id) return;
    // A binding with nowhere to go (not scheduled yet) has nothing to report (unless it reported before).
    const reported = isPlainObject(binding['status']) && binding['status']['aggregatedStatus'] !== undefined;
    if (bindingTargets(binding).size === 0 && clustersKeptByEviction(binding).size === 0 && !reported) return;
    const works = this.worksByBinding.get(id).filter((work) => !work.metadata.deletionTimestamp);
    const items = aggregatedStatusItems(binding, works);
    await this.writeBindingStatus(kind, binding, items);
    if (items.length > 0) await this.writeTemplateStatus(binding, items);
  }

  private async writeBindingStatus(kind: BindingKind, binding: KubeObject, items: ReturnType<typeof aggregatedStatusItems>): Promise<void> {
    const status = isPlainObject(binding['status']) ? binding['status'] : {};
    const conditions = (Array.isArray(status['conditions']) ? status['conditions'] : []) as Condition[];
    const nextConditions = upsertCondition(conditions, fullyAppliedCondition(binding, items), timestamp());
    const next: Record<string, unknown> = { ...status, conditions: nextConditions };
    if (items.length > 0) next['aggregatedStatus'] = items;
    else delete next['aggregatedStatus'];
    if (nextConditions === conditions && jsonEqual(next['aggregatedStatus'], status['aggregatedStatus'])) return;
    await this.client.update(bindingPath(kind, binding, 'status'), { ...binding, status: next }, { signal: this.loop.signal });
    this.stats.bindingWrites++;
  }

  private async writeTemplateStatus(binding: KubeObject, items: ReturnType<typeof aggregatedStatusItems>): Promise<void> {
    const spec = isPlainObject(binding['spec']) ? binding['spec'] : {};
    const resource = (isPlainObject(spec['resource']) ? spec['resource'] : {}) as { apiVersion?: string; kind?: string; namespace?: string; name?: string; uid?: string };
    const mapping = await this.mapper.mapping(resource.apiVersion ?? '', resource.kind ?? '', this.loop.signal);
    if (!mapping || !mapping.subresources.includes('status')) return;
    const path = resourcePath(mapping, mapping.namespaced ? resource.namespace : undefined, resource.name ?? '');
    let template: KubeObject;
    try {
      template = await this.client.get(path, { signal: this.loop.signal });
    } catch (err) {
      if (isApiError(err, 404)) return;
      throw err;
    }
    if (resource.uid && template.metadata.uid !== resource.uid) return;
    const status = aggregateTemplateStatus(template, items);
    if (status === undefined || jsonEqual(status, template['status'])) return;
    await this.client.update(`${path}/status`, { ...template, status }, { signal: this.loop.signal });
    this.stats.templateWrites++;
  }
}
