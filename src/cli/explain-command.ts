import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { isPlainObject } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import { HttpClient, isApiError, resourcePath } from '../client/client.js';
import type { DiscoveredResource } from '../client/client.js';
import type { PlacementReviewStatus } from '../karmada/placement-review.js';
import { PLACEMENT_REVIEW_GROUP, PLACEMENT_REVIEW_KIND, PLACEMENT_REVIEW_VERSION } from '../karmada/placement-review.js';
import { clientConfig, controlPlaneKubeconfigPath, loadKubeconfig } from './join-command.js';

/**
 * `flotilla explain placement`: where a resource template goes and why, cluster by cluster — the
 * policy that claims it, the binding, and for every cluster the filter that rejected it or its score,
 * available replicas and share. It posts a PlacementReview (nothing is stored), so it also answers
 * "what if" for a template not created yet (-f) or a policy not applied yet (--policy).
 */
interface ExplainFlags {
  namespace?: string;
  filename?: string;
  policy?: string;
  kubeconfig?: string;
  output: 'table' | 'json' | 'yaml';
}

export class ExplainError extends Error {
  override readonly name = 'ExplainError';
}

export function explainCommand(): Command {
  const placement = new Command('placement')
    .description('show where a resource template is (or would be) scheduled and why, cluster by cluster')
    .argument('[kind/name]', 'a template on the control plane, e.g. deployment/nginx or deployments.apps/nginx')
    .option('-n, --namespace <namespace>', 'namespace of the template (default "default" for namespaced kinds)')
    .option('-f, --filename <file>', 'a template from a YAML/JSON file instead of the control plane')
    .option('--policy <file>', 'a (Cluster)PropagationPolicy to try instead of the applied ones')
    .option('--kubeconfig <file>', 'kubeconfig of the control plane (default $KUBECONFIG or .flotilla/admin.kubeconfig)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'yaml']).default('table'))
    .action(async (target: string | undefined, flags: ExplainFlags) => {
      const review = await explainPlacement(target, flags);
      if (flags.output === 'json') process.stdout.write(`${JSON.stringify(review, null, 2)}\n`);
      else if (flags.output === 'yaml') process.stdout.write(stringifyYaml(review));
      else process.stdout.write(formatReview(review));
    });
  return new Command('explain').description('explain what Flotilla decided').addCommand(placement);
}

export async function explainPlacement(target: string | undefined, flags: Omit<ExplainFlags, 'output'>): Promise<KubeObject> {
  if ((target === undefined) === (flags.filename === undefined)) throw new ExplainError('name a template as KIND/NAME or give one with -f (not both)');
  const credentials = await loadKubeconfig(controlPlaneKubeconfigPath(flags.kubeconfig));
  const client = new HttpClient(clientConfig(credentials, 15_000, 'flotilla-explain/v0.1.0'));
  try {
    const template = target !== undefined ? await fetchTemplate(client, target, flags.namespace) : await readObject(flags.filename as string, 'template');
    if (target === undefined && flags.namespace && !template.metadata.namespace) template.metadata.namespace = flags.namespace;
    const policy = flags.policy !== undefined ? await readObject(flags.policy, 'policy') : undefined;
    const review: KubeObject = {
      apiVersion: `${PLACEMENT_REVIEW_GROUP}/${PLACEMENT_REVIEW_VERSION}`,
      kind: PLACEMENT_REVIEW_KIND,
      metadata: {},
      spec: { template, ...(policy ? { policy } : {}) },
    };
    return await client.create(`/apis/${PLACEMENT_REVIEW_GROUP}/${PLACEMENT_REVIEW_VERSION}/placementreviews`, review);
  } finally {
    client.close();
  }
}

async function fetchTemplate(client: HttpClient, target: string, namespace: string | undefined): Promise<KubeObject> {
  const slash = target.indexOf('/');
  if (slash <= 0 || slash === target.length - 1) throw new ExplainError(`"${target}" is not KIND/NAME`);
  const resource = resolveKind(await client.discover(), target.slice(0, slash));
  const name = target.slice(slash + 1);
  const ns = resource.namespaced ? (namespace ?? 'default') : undefined;
  try {
    return await client.get(resourcePath(resource, ns, name));
  } catch (err) {
    if (isApiError(err, 404)) throw new ExplainError(`${resource.kind} ${ns ? `${ns}/` : ''}${name} not found`);
    throw err;
  }
}

/** kubectl-style resource names: kind, plural, singular-ish, optionally qualified with the group. */
function resolveKind(resources: readonly DiscoveredResource[], text: string): DiscoveredResource {
  const lower = text.toLowerCase();
  const dot = lower.indexOf('.');
  const name = dot >= 0 ? lower.slice(0, dot) : lower;
  const group = dot >= 0 ? lower.slice(dot + 1) : undefined;
  const matches = resources.filter((r) => (group === undefined || r.group === group) && [r.resource, r.kind.toLowerCase()].includes(name));
  const found = matches.find((r) => r.group === '') ?? matches[0];
  if (!found) throw new ExplainError(`the server doesn't have a resource type "${text}"`);
  return found;
}

async function readObject(file: string, what: string): Promise<KubeObject> {
  let parsed: unknown;
  try {
    parsed = parseYaml(await readFile(file, 'utf8'));
  } catch (err) {
    throw new ExplainError(`cannot read the ${what} ${file}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  if (!isPlainObject(parsed) || !isPlainObject(parsed['metadata'])) throw new ExplainError(`${file} does not hold one Kubernetes object`);
  return parsed as KubeObject;
}

/** The human form: a summary, then one row per cluster. */
export function formatReview(review: KubeObject): string {
  const status = (review['status'] ?? {}) as PlacementReviewStatus;
  const template = ((review['spec'] as { template?: KubeObject } | undefined)?.template ?? { metadata: {} }) as KubeObject;
  const lines: string[] = [];
  const ns = template.metadata.namespace ? `${template.metadata.namespace}/` : '';
  lines.push(`Template:  ${template.apiVersion ?? ''} ${template.kind ?? ''} ${ns}${template.metadata.name ?? ''}`);
  if (!status.policy) {
    lines.push(`Result:    not propagated: ${status.message ?? 'no policy selects it'}`);
    return `${lines.join('\n')}\n`;
  }
  const p = status.policy;
  lines.push(`Policy:    ${p.kind} ${p.namespace ? `${p.namespace}/` : ''}${p.name}${p.selectsTemplate ? '' : ' (does NOT select this template)'}`);
  if (status.binding) {
    const b = status.binding;
    const requests = isPlainObject(b.replicaRequirements) && isPlainObject(b.replicaRequirements['resourceRequest']) ? Object.entries(b.replicaRequirements['resourceRequest']).map(([k, v]) => `${k}=${String(v)}`).join(',') : '';
    lines.push(`Binding:   ${b.kind} ${b.namespace ? `${b.namespace}/` : ''}${b.name}${b.exists ? '' : ' (not created yet)'}${b.replicas !== undefined ? `, ${b.replicas} replicas` : ''}${requests ? `, each ${requests}` : ''}`);
  }
  if (status.trigger) lines.push(`Scheduler: ${status.trigger.kind === 'none' ? 'would not reschedule now (placement and replicas unchanged)' : `would schedule (${status.trigger.kind}: ${status.trigger.reason ?? ''})`}`);
  if (status.condition) lines.push(`Result:    Scheduled=${status.condition.status} ${status.condition.reason}: ${status.condition.message}`);
  if (status.clusters && status.clusters.length > 0) lines.push(`Clusters:  ${status.clusters.map((c) => (c.replicas !== undefined ? `${c.name}:${c.replicas}` : c.name)).join(', ')}`);
  if (status.affinityName) lines.push(`Affinity:  ${status.affinityName}`);
  const rows = [['CLUSTER', 'DECISION', 'REPLICAS', 'SCORE', 'AVAILABLE', 'WHY']];
  for (const d of status.decisions ?? []) {
    rows.push([d.cluster, d.filteredBy ? `filtered (${d.filteredBy.plugin})` : d.selected ? 'selected' : 'not selected', d.replicas !== undefined ? String(d.replicas) : '-', d.score !== undefined ? String(d.score) : '-', d.availableReplicas !== undefined ? String(d.availableReplicas) : '-', d.why]);
  }
  if (rows.length > 1) {
    lines.push('');
    const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
    for (const row of rows) lines.push(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd((widths[i] ?? 0) + 2))).join('').trimEnd());
  }
  return `${lines.join('\n')}\n`;
}
