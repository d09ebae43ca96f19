import type { Logger } from 'pino';
import type { KubeObject } from '../api/object.js';
import type { ApiClient, DiscoveredResource } from '../client/client.js';
import { isApiError, resourcePath } from '../client/client.js';
import { ControllerLoop, LoopController } from '../client/controller-loop.js';
import type { ReconcileResult } from '../client/work-queue.js';
import { CPP_CLAIM, PP_CLAIM } from '../karmada/claims.js';
import type { ClaimKind } from '../karmada/claims.js';

/**
 * What happens when a (Cluster)PropagationPolicy is deleted (karmada-api.md §4.1 "Policy deletion"):
 * Karmada's admission gave the policy a finalizer; this controller releases every object the policy
 * claimed — resource templates and bindings carrying its permanent-id label lose the claim label and
 * annotations — and then removes the finalizer so the policy goes. Bindings, Works and member objects
 * stay in place, as in Karmada. (The resource detector makes the claims and leaves those of a policy
 * being deleted to this controller.)
 */
const POLICY_KINDS: Record<'pp' | 'cpp', ClaimKind> = { pp: PP_CLAIM, cpp: CPP_CLAIM };

export interface PolicyClaimReleaseOptions {
  readonly client: ApiClient;
  readonly logger: Logger;
  /** How long a discovery result is reused; default 10 s. */
  readonly discoveryTtlMs?: number;
}

export class PolicyClaimRelease extends LoopController {
  readonly name = 'policy-claim-release';
  private readonly client: ApiClient;
  private readonly logger: Logger;
  private readonly options: PolicyClaimReleaseOptions;
  protected readonly loop: ControllerLoop<string>;
  private discovery: { at: number; result: Promise<DiscoveredResource[]> } | undefined;

  constructor(options: PolicyClaimReleaseOptions) {
    super();
    this.options = options;
    this.client = options.client;
    this.logger = options.logger;
    this.loop = new ControllerLoop<string>({ name: this.name, client: options.client, logger: options.logger, reconcile: (key) => this.reconcile(key), keyField: 'policy' });
    for (const kind of Object.keys(POLICY_KINDS) as ('pp' | 'cpp')[]) {
      const enqueue = (policy: KubeObject): void => {
        const { deletionTimestamp, finalizers, namespace, name } = policy.metadata;
        if (deletionTimestamp && name && (finalizers ?? []).includes(POLICY_KINDS[kind].finalizer)) this.loop.queue.add(`${kind}/${namespace ?? ''}/${name}`);
      };
      this.loop.informer(resourcePath(POLICY_KINDS[kind].resource), { metadataOnly: true }).addHandlers({ onAdd: enqueue, onUpdate: (_old, policy) => enqueue(policy) });
    }
  }


  private async reconcile(key: string): Promise<ReconcileResult> {
    const [kindKey, namespace, name] = key.split('/') as ['pp' | 'cpp', string, string];
    const kind = POLICY_KINDS[kindKey];
    const path = resourcePath(kind.resource, namespace || undefined, name);
    let policy: KubeObject;
    try {
      policy = await this.client.get(path, { signal: this.loop.signal });
    } catch (err) {
      if (isApiError(err, 404)) return;
      throw err;
    }
    const finalizers = policy.metadata.finalizers ?? [];
    if (!policy.metadata.deletionTimestamp || !finalizers.includes(kind.finalizer)) return;
    const id = policy.metadata.labels?.[kind.idLabel];
    const released = id ? await this.releaseClaims(kind, id) : 0;
    // A JSON patch with a test keeps a concurrent finalizer change from being overwritten.
    await this.client.patch(path, 'json', [
      { op: 'test', path: '/metadata/finalizers', value: finalizers },
      { op: 'replace', path: '/metadata/finalizers', value: finalizers.filter((f) => f !== kind.finalizer) },
    ], { signal: this.loop.signal }).catch((err: unknown) => {
      if (!isApiError(err, 404)) throw err;
    });
    this.logger.info({ policy: key, released }, 'policy deleted: claims released');
  }

  /** Removes the claim from every object labelled with the policy's permanent id; returns how many. */
  private async releaseClaims(kind: ClaimKind, id: string): Promise<number> {
    // Templates and bindings carry claims; policies carry their own id (not a claim) and are left alone.
    const resources = (await this.discover()).filter((r) => r.group !== 'policy.karmada.io' && r.verbs.includes('list') && r.verbs.includes('patch'));
    const unclaim = { metadata: { labels: { [kind.idLabel]: null }, annotations: Object.fromEntries(kind.annotations.map((a) => [a, null])) } };
    let released = 0;
    for (const resource of resources) {
      const claimed = await this.client.list(resourcePath(resource), { labelSelector: `${kind.idLabel}=${id}`, metadataOnly: true, signal: this.loop.signal }).catch((err: unknown) => {
        if (isApiError(err, 404) || isApiError(err, 405)) return { items: [] as KubeObject[] };
        throw err;
      });
      for (const object of claimed.items) {
        const { namespace, name } = object.metadata;
        if (!name) continue;
        await this.client.patch(resourcePath(resource, resource.namespaced ? namespace : undefined, name), 'merge', unclaim, { signal: this.loop.signal }).then(
          () => released++,
          (err: unknown) => {
            if (!isApiError(err, 404)) throw err;
          },
        );
      }
    }
    return released;
  }

  private discover(): Promise<DiscoveredResource[]> {
    const ttl = this.options.discoveryTtlMs ?? 10_000;
    if (!this.discovery || Date.now() - this.discovery.at > ttl) {
      const result = this.client.discover({ signal: this.loop.signal });
      this.discovery = { at: Date.now(), result };
      result.catch(() => {
        if (this.discovery?.result === result) this.discovery = undefined;
      });
    }
    return this.discovery.result;
  }
}
