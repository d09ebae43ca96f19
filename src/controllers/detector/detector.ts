import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { isPlainObject } from '../../api/object.js';
import type { KubeObject } from '../../api/object.js';
import type { ApiClient, DiscoveredResource } from '../../client/client.js';
import { isApiError, resourcePath } from '../../client/client.js';
import { DiscoveredInformers, resourceKey } from '../../client/discovered-informers.js';
import { CacheIndex } from '../../client/cache-index.js';
import { Informer, objectKey } from '../../client/informer.js';
import { LabelIndex } from '../../client/label-index.js';
import { WorkQueue } from '../../client/work-queue.js';
import type { ReconcileResult } from '../../client/work-queue.js';
import { claimOf, claimPatch, CPP_CLAIM, hasClaim, PP_CLAIM } from '../../karmada/claims.js';
import type { PolicyKind } from '../../karmada/claims.js';
import { bindingLocation, CLUSTER_RESOURCE_BINDINGS, newBinding, refreshedBinding, RESOURCE_BINDINGS } from '../../karmada/binding-builder.js';
import { bestPolicy, canPreempt, lazyActivation, policyMatch, resourceSelectors } from '../../karmada/policy-selection.js';
import { crdReplicaPaths, interpretReplicas } from '../../karmada/replicas.js';
import { changedOnlyByKarmada, DEFAULT_SKIPPED_NAMESPACES, dependentOverrides, isCandidateTemplate, isTemplateResource, specificationChanged } from './template-filter.js';

/**
 * Karmada's resource detector (karmada-api.md §4.1), a client of the API: it watches every kind that
 * can be a resource template (discovered, so CRDs join), the (Cluster)PropagationPolicies, and the
 * bindings, and for each template, level-based:
 *  1. a template claimed by a policy keeps it while the policy exists and still selects it (unless a
 *     policy with `preemption: Always` may take it over); a claim whose policy is gone or no longer
 *     selects the template is released (template and binding) and the template is matched afresh;
 *  2. otherwise the best PropagationPolicy of its namespace, else the best ClusterPropagationPolicy
 *     (policy-selection.ts) claims it; none: it waits for a policy to arrive;
 *  3. a policy whose `dependentOverrides` do not all exist yet makes the template wait (retried);
 *  4. the template is claimed (labels + annotations, a merge patch with a resourceVersion
 *     precondition), then its binding is created or refreshed (binding-builder.ts) — at most one
 *     write each, none when nothing changed. With `activationPreference: Lazy`, a policy change
 *     reaches the binding only once the template itself changes.
 * Template updates that change only status/managedFields/resourceVersion are ignored. Deleting a
 * template removes its binding through the garbage collector (controller ownerReference); deleting a
 * binding of a claimed template recreates it. Releasing claims of deleted policies is the
 * policy-claim-release controller's job.
 */
export interface ResourceDetectorOptions {
  readonly client: ApiClient;
  readonly logger: Logger;
  /** Default 4. */
  readonly workers?: number;
  /** Rediscovery of served kinds; default 30 s (CRDs also trigger it when they change). */
  readonly rediscoveryMs?: number;
  /** Namespaces whose objects are never templates; default kube-.* */
  readonly skippedNamespaces?: readonly RegExp[];
  /** Informer resync; default 5 min. */
  readonly resyncPeriodMs?: number;
}

const POLICY_RESOURCES = { PropagationPolicy: PP_CLAIM.resource, ClusterPropagationPolicy: CPP_CLAIM.resource } as const;
const OVERRIDE_POLICIES = { group: 'policy.karmada.io', version: 'v1alpha1', resource: 'overridepolicies' } as const;
const CLUSTER_OVERRIDE_POLICIES = { group: 'policy.karmada.io', version: 'v1alpha1', resource: 'clusteroverridepolicies' } as const;
const CRDS = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions' } as const;

/** A queue key: the template's resource ("group/resource") and namespace/name. */
const templateKey = (resource: string, object: KubeObject): string => `${resource}|${objectKey(object)}`;

/** Index keys of a policy: per selector `<policy namespace>|<apiVersion>|<kind>|<name, or * when it names none>`. */
function selectorKeys(policy: KubeObject): string[] {
  const keys = resourceSelectors(policy).map((s) => `${policy.metadata.namespace ?? ''}|${String(s.apiVersion ?? '')}|${String(s.kind ?? '')}|${typeof s.name === 'string' && s.name !== '' ? s.name : '*'}`);
  return [...new Set(keys)];
}

export class ResourceDetector {
  private readonly client: ApiClient;
  private readonly logger: Logger;
  private readonly options: ResourceDetectorOptions;
  private readonly abort = new AbortController();
  private readonly queue = new WorkQueue<string>({ qps: Infinity });
  private readonly templates: DiscoveredInformers;
  private readonly policies: Record<PolicyKind, Informer>;
  private readonly overrides: Informer;
  private readonly clusterOverrides: Informer;
  private readonly bindings: Informer;
  private readonly clusterBindings: Informer;
  /** Policies by what their selectors can select: `<namespace>|<apiVersion>|<kind>|<name or *>`. */
  private readonly policiesBySelector: Record<PolicyKind, CacheIndex>;
  /** Bindings by the permanent id of the policy claiming them. */
  private readonly bindingsByClaim: LabelIndex;
  private readonly clusterBindingsByClaim: LabelIndex;
  private readonly crds: Informer;
  /** Templates changed by someone other than the detector since they were last reconciled. */
  private readonly changedByUser = new Set<string>();
  /** "apiVersion/kind" → specReplicasPath of CRDs with a scale subresource. */
  private replicaPaths = new Map<string, string>();
  private workers: Promise<void> = Promise.resolve();

  constructor(options: ResourceDetectorOptions) {
    this.options = options;
    this.client = options.client;
    this.logger = options.logger;
    setMaxListeners(0, this.abort.signal);
    const informerOptions = { resyncPeriodMs: options.resyncPeriodMs ?? 300_000, signal: this.abort.signal, logger: this.logger };
    this.templates = new DiscoveredInformers({
      client: this.client,
      logger: this.logger,
      signal: this.abort.signal,
      select: isTemplateResource,
      informerOptions: { resyncPeriodMs: options.resyncPeriodMs ?? 300_000 },
      ...(options.rediscoveryMs !== undefined ? { rediscoveryMs: options.rediscoveryMs } : {}),
      onAdded: (resource, informer) => this.watchTemplates(resource, informer),
    });
    const policyInformer = (kind: PolicyKind) =>
      new Informer(this.client, resourcePath(POLICY_RESOURCES[kind]), informerOptions).addHandlers({
        onAdd: (policy) => this.policyChanged(kind, undefined, policy),
        onUpdate: (old, policy) => this.policyChanged(kind, old, policy),
        onDelete: (policy) => this.policyChanged(kind, undefined, policy),
      });
    this.policies = { PropagationPolicy: policyInformer('PropagationPolicy'), ClusterPropagationPolicy: policyInformer('ClusterPropagationPolicy') };
    this.policiesBySelector = {
      PropagationPolicy: new CacheIndex(this.policies.PropagationPolicy, selectorKeys),
      ClusterPropagationPolicy: new CacheIndex(this.policies.ClusterPropagationPolicy, selectorKeys),
    };
    // Overrides a policy depends on: when one appears, the policy's templates may go on.
    const overrideChanged = (override: KubeObject) => this.overrideAppeared(override);
    this.overrides = new Informer(this.client, resourcePath(OVERRIDE_POLICIES), { ...informerOptions, metadataOnly: true }).addHandlers({ onAdd: overrideChanged });
    this.clusterOverrides = new Informer(this.client, resourcePath(CLUSTER_OVERRIDE_POLICIES), { ...informerOptions, metadataOnly: true }).addHandlers({ onAdd: overrideChanged });
    const bindingGone = (binding: KubeObject) => this.bindingDeleted(binding);
    this.bindings = new Informer(this.client, resourcePath(RESOURCE_BINDINGS), informerOptions).addHandlers({ onDelete: bindingGone });
    this.clusterBindings = new Informer(this.client, resourcePath(CLUSTER_RESOURCE_BINDINGS), informerOptions).addHandlers({ onDelete: bindingGone });
    this.bindingsByClaim = new LabelIndex(this.bindings, [PP_CLAIM.idLabel, CPP_CLAIM.idLabel]);
    this.clusterBindingsByClaim = new LabelIndex(this.clusterBindings, [PP_CLAIM.idLabel, CPP_CLAIM.idLabel]);
    this.crds = new Informer(this.client, resourcePath(CRDS), informerOptions).addHandlers({
      onAdd: () => this.crdsChanged(),
      onUpdate: (old, crd) => {
        if (specificationChanged(old, crd) || JSON.stringify(old['status']) !== JSON.stringify(crd['status'])) this.crdsChanged();
      },
      onDelete: () => this.crdsChanged(),
    });
  }

  private get supportInformers(): Informer[] {
    return [this.policies.PropagationPolicy, this.policies.ClusterPropagationPolicy, this.overrides, this.clusterOverrides, this.bindings, this.clusterBindings, this.crds];
  }

  /**
   * Starts informers and workers; returns at once. Workers wait until policies and bindings have
   * listed: judging a claim before its policy is known would release it.
   */
  start(): void {
    for (const informer of this.supportInformers) informer.start();
    this.templates.start();
    this.workers = (async () => {
      const synced = await Promise.all(this.supportInformers.map((i) => i.waitForSync(60_000)));
      if (this.abort.signal.aborted) return;
      if (!synced.every(Boolean)) this.logger.warn('resource detector: policies or bindings not listed yet; starting anyway');
      await this.queue.run(this.options.workers ?? 4, (key) => this.reconcile(key), (key, err) => {
        if (this.abort.signal.aborted) return;
        this.logger[isApiError(err, 409) ? 'debug' : 'warn']({ template: key, err: err instanceof Error ? err.message : String(err) }, 'resource detector: reconcile failed; will retry');
      });
    })();
  }

  async waitForSync(timeoutMs = 30_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const support = await Promise.all(this.supportInformers.map((i) => i.waitForSync(timeoutMs)));
    const templates = await this.templates.waitForSync(Math.max(0, deadline - Date.now()));
    return support.every(Boolean) && templates;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.queue.shutDown();
    await Promise.all([...this.supportInformers.map((i) => i.stop()), this.templates.stop()]);
    await this.workers;
  }

  // ---- events ----

  private watchTemplates(resource: DiscoveredResource, informer: Informer): void {
    const key = resourceKey(resource);
    const typed = (object: KubeObject) => this.typed(resource, object);
    informer.addHandlers({
      onAdd: (object) => {
        if (!isCandidateTemplate(typed(object), this.skipped)) return;
        this.changedByUser.add(templateKey(key, object));
        this.queue.add(templateKey(key, object));
      },
      onUpdate: (old, object) => {
        if (!isCandidateTemplate(typed(object), this.skipped)) return;
        if (old === object) {
          this.queue.add(templateKey(key, object)); // resync: look again
          return;
        }
        if (!specificationChanged(old, object)) return;
        if (!changedOnlyByKarmada(old, object)) this.changedByUser.add(templateKey(key, object));
        this.queue.add(templateKey(key, object));
      },
      onDelete: (object) => this.changedByUser.delete(templateKey(key, object)),
    });
  }

  /** A policy came, changed or went: every template it selects or claims is looked at again. */
  private policyChanged(kind: PolicyKind, old: KubeObject | undefined, policy: KubeObject): void {
    // Lazy activation: a change of the policy alone does not reach existing bindings (the claim of
    // new templates still happens).
    for (const candidate of old ? [old, policy] : [policy]) {
      for (const selector of resourceSelectors(candidate)) {
        for (const { resource, informer } of this.templates.entries()) {
          if (`${resource.group ? `${resource.group}/` : ''}${resource.version}` !== selector.apiVersion || resource.kind !== selector.kind) continue;
          // A selector naming its object needs no scan when the object's namespace is known too.
          const name = typeof selector.name === 'string' ? selector.name : '';
          const namespace = !resource.namespaced ? undefined : kind === 'PropagationPolicy' ? policy.metadata.namespace : typeof selector.namespace === 'string' && selector.namespace !== '' ? selector.namespace : null;
          const named = name !== '' && namespace !== null ? informer.getByName(namespace, name) : undefined;
          for (const template of name !== '' && namespace !== null ? (named ? [named] : []) : informer.list()) {
            const typed = this.typed(resource, template);
            if (kind === 'PropagationPolicy' && typed.metadata.namespace !== policy.metadata.namespace) continue;
            if (policyMatch(candidate, typed) > 0) this.queue.add(templateKey(resourceKey(resource), template));
          }
        }
      }
    }
    // Templates it claims that it may no longer select: found through their bindings.
    const claim = kind === 'PropagationPolicy' ? PP_CLAIM : CPP_CLAIM;
    const id = policy.metadata.labels?.[claim.idLabel];
    if (!id) return;
    for (const binding of [...this.bindingsByClaim.get(id), ...this.clusterBindingsByClaim.get(id)]) {
      if (binding.metadata.labels?.[claim.idLabel] === id) this.enqueueBindingTemplate(binding);
    }
  }

  private overrideAppeared(override: KubeObject): void {
    const name = override.metadata.name;
    const cluster = !override.metadata.namespace;
    for (const policy of (cluster ? this.policies.ClusterPropagationPolicy : this.policies.PropagationPolicy).list()) {
      if (!cluster && policy.metadata.namespace !== override.metadata.namespace) continue;
      if (name && dependentOverrides(policy).includes(name)) this.policyChanged(cluster ? 'ClusterPropagationPolicy' : 'PropagationPolicy', undefined, policy);
    }
  }

  private bindingDeleted(binding: KubeObject): void {
    this.enqueueBindingTemplate(binding);
  }

  private enqueueBindingTemplate(binding: KubeObject): void {
    const resource = isPlainObject(binding['spec']) && isPlainObject(binding['spec']['resource']) ? binding['spec']['resource'] : undefined;
    if (!resource) return;
    const apiVersion = String(resource['apiVersion'] ?? '');
    const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
    for (const { resource: r } of this.templates.entries()) {
      if (r.group === group && r.kind === resource['kind']) {
        const namespace = typeof resource['namespace'] === 'string' && resource['namespace'] !== '' ? `${resource['namespace']}/` : '';
        this.queue.add(`${resourceKey(r)}|${namespace}${String(resource['name'] ?? '')}`);
      }
    }
  }

  private crdsChanged(): void {
    this.replicaPaths = crdReplicaPaths(this.crds.list());
    // A CRD served a moment ago: its kind becomes watchable now rather than at the next rediscovery.
    void this.templates.refresh();
  }

  // ---- reconcile ----

  private get skipped(): readonly RegExp[] {
    return this.options.skippedNamespaces ?? DEFAULT_SKIPPED_NAMESPACES;
  }

  /** Lists may carry items without apiVersion/kind; the resource knows them. */
  private typed(resource: DiscoveredResource, object: KubeObject): KubeObject {
    if (object.apiVersion && object.kind) return object;
    return { ...object, apiVersion: resource.group ? `${resource.group}/${resource.version}` : resource.version, kind: resource.kind };
  }

  private async reconcile(key: string): Promise<ReconcileResult> {
    const bar = key.indexOf('|');
    const entry = this.templates.get(key.slice(0, bar));
    const cached = entry?.informer.get(key.slice(bar + 1));
    if (!entry || !cached) {
      this.changedByUser.delete(key);
      return;
    }
    // Its own metadata: releasing a claim updates the labels seen by the rest of this reconcile, never the cache's object.
    const typed = this.typed(entry.resource, cached);
    let template: KubeObject = { ...typed, metadata: { ...typed.metadata } };
    if (!isCandidateTemplate(template, this.skipped)) return;
    const path = resourcePath(entry.resource, template.metadata.namespace, template.metadata.name);

    const chosen = await this.choosePolicy(template, path);
    if (chosen === 'wait') return { requeueAfterMs: 5_000 };
    if (!chosen) return;
    const missing = this.missingOverrides(chosen.kind, chosen.policy);
    if (missing.length > 0) {
      this.logger.info({ template: key, policy: chosen.policy.metadata.name, missing }, 'resource detector: waiting for dependent overrides');
      return { requeueAfterMs: 5_000 };
    }
    if (!hasClaim(template, chosen.kind, chosen.policy)) {
      const patch = claimPatch(chosen.kind, chosen.policy);
      template = this.typed(entry.resource, await this.client.patch(path, 'merge', { metadata: { resourceVersion: template.metadata.resourceVersion, ...patch } }, { signal: this.abort.signal }));
      this.logger.debug({ template: key, policy: chosen.policy.metadata.name }, 'resource detector: claimed');
    }
    const userChange = this.changedByUser.has(key);
    const where = bindingLocation(template);
    const existing = (where.namespace ? this.bindings : this.clusterBindings).getByName(where.namespace, where.name);
    if (existing && lazyActivation(chosen.policy) && !userChange) return; // the policy's change waits for a change of the template
    await this.upsertBinding(template, chosen.kind, chosen.policy, existing);
    this.changedByUser.delete(key);
  }

  /** The policies whose selectors can select the template: those naming it and those naming none of its kind. */
  private candidatePolicies(kind: PolicyKind, namespace: string, template: KubeObject): Set<KubeObject> {
    const prefix = `${namespace}|${template.apiVersion ?? ''}|${template.kind ?? ''}|`;
    const index = this.policiesBySelector[kind];
    return new Set([...index.get(prefix + (template.metadata.name ?? '')), ...index.get(`${prefix}*`)]);
  }

  /**
   * The policy the template belongs to now (releasing a claim that no longer holds), undefined when
   * no policy selects it, 'wait' while its policy is being deleted.
   */
  private async choosePolicy(template: KubeObject, path: string): Promise<{ kind: PolicyKind; policy: KubeObject } | undefined | 'wait'> {
    const namespace = template.metadata.namespace;
    const best = (): { kind: PolicyKind; policy: KubeObject } | undefined => {
      const pp = namespace ? bestPolicy(this.candidatePolicies('PropagationPolicy', namespace, template), template) : undefined;
      if (pp) return { kind: 'PropagationPolicy', policy: pp };
      const cpp = bestPolicy(this.candidatePolicies('ClusterPropagationPolicy', '', template), template);
      return cpp ? { kind: 'ClusterPropagationPolicy', policy: cpp } : undefined;
    };
    const claim = claimOf(template);
    if (!claim) return best();
    const informer = this.policies[claim.kind];
    const policy = claim.kind === 'PropagationPolicy' ? informer.getByName(claim.namespace, claim.name) : informer.getByName(undefined, claim.name);
    const idLabel = claim.kind === 'PropagationPolicy' ? PP_CLAIM.idLabel : CPP_CLAIM.idLabel;
    if (policy?.metadata.deletionTimestamp) return 'wait'; // the policy-claim-release controller releases it
    if (!policy || policy.metadata.labels?.[idLabel] !== claim.id || policyMatch(policy, template) === 0) {
      await this.releaseClaim(template, path);
      return best();
    }
    const current = { kind: claim.kind, policy };
    const challenger = best();
    if (challenger && canPreempt(challenger, current)) {
      this.logger.info({ template: objectKey(template), from: policy.metadata.name, to: challenger.policy.metadata.name }, 'resource detector: policy preempted');
      return challenger;
    }
    return current;
  }

  /** Removes the claim from the template and from its binding. */
  private async releaseClaim(template: KubeObject, path: string): Promise<void> {
    const patch = claimPatch(undefined, undefined);
    await this.client.patch(path, 'merge', { metadata: { resourceVersion: template.metadata.resourceVersion, ...patch } }, { signal: this.abort.signal });
    const where = bindingLocation(template);
    const bindingPath = resourcePath(where.namespace ? RESOURCE_BINDINGS : CLUSTER_RESOURCE_BINDINGS, where.namespace, where.name);
    try {
      await this.client.patch(bindingPath, 'merge', { metadata: patch }, { signal: this.abort.signal });
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
    }
    template.metadata.labels = Object.fromEntries(Object.entries(template.metadata.labels ?? {}).filter(([k]) => !(k in patch.labels)));
    template.metadata.annotations = Object.fromEntries(Object.entries(template.metadata.annotations ?? {}).filter(([k]) => !(k in patch.annotations)));
    this.logger.debug({ template: objectKey(template) }, 'resource detector: claim released');
  }

  private missingOverrides(kind: PolicyKind, policy: KubeObject): string[] {
    const informer = kind === 'PropagationPolicy' ? this.overrides : this.clusterOverrides;
    const namespace = kind === 'PropagationPolicy' ? policy.metadata.namespace : undefined;
    return dependentOverrides(policy).filter((name) => !informer.getByName(namespace, name));
  }

  /** Creates or refreshes the template's binding; a stale cache is corrected with a live read. */
  private async upsertBinding(template: KubeObject, kind: PolicyKind, policy: KubeObject, cached: KubeObject | undefined): Promise<void> {
    const replicas = interpretReplicas(template, this.replicaPaths.get(`${template.apiVersion ?? ''}/${template.kind ?? ''}`));
    const where = bindingLocation(template);
    const resource = where.namespace ? RESOURCE_BINDINGS : CLUSTER_RESOURCE_BINDINGS;
    let existing = cached;
    for (let attempt = 0; ; attempt++) {
      try {
        if (!existing) {
          await this.client.create(resourcePath(resource, where.namespace), newBinding(template, kind, policy, replicas), { signal: this.abort.signal });
          this.logger.debug({ binding: `${where.namespace ?? ''}/${where.name}` }, 'resource detector: binding created');
          return;
        }
        const refreshed = refreshedBinding(existing, template, kind, policy, replicas);
        if (!refreshed) return;
        await this.client.update(resourcePath(resource, where.namespace, where.name), refreshed, { signal: this.abort.signal });
        this.logger.debug({ binding: `${where.namespace ?? ''}/${where.name}` }, 'resource detector: binding updated');
        return;
      } catch (err) {
        if (attempt >= 2 || !isApiError(err, 409)) throw err;
      }
      // AlreadyExists or Conflict: the cache was behind; go on from the live binding.
      try {
        existing = await this.client.get(resourcePath(resource, where.namespace, where.name), { signal: this.abort.signal });
      } catch (err) {
        if (!isApiError(err, 404)) throw err;
        existing = undefined;
      }
    }
  }
}
