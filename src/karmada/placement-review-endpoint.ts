import { isPlainObject } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import { cause, errors } from '../api/status.js';
import type { StatusCause } from '../api/status.js';
import type { ResourceContext } from '../endpoints/resource-handlers.js';
import { keyPrefix } from '../registry/resource.js';
import type { ResourceDefinition } from '../registry/resource.js';
import { bindingLocation } from './binding-builder.js';
import type { PolicyKind } from './claims.js';
import { PLACEMENT_REVIEW_GROUP, PLACEMENT_REVIEW_KIND, PLACEMENT_REVIEW_VERSION, reviewPlacement } from './placement-review.js';

/**
 * POST /apis/scheduling.flotilla.io/v1alpha1/placementreviews: a PlacementReview in, the same object
 * with `status` out (201, nothing stored), as kube answers a TokenReview.
 *
 *   spec.template  the resource template (required: apiVersion, kind, metadata.name)
 *   spec.policy    optional (Cluster)PropagationPolicy to try instead of the stored ones; it goes
 *                  through the policy's admission (defaults, Karmada's validation: 422 when invalid)
 */
export const PLACEMENT_REVIEW_RESOURCE: ResourceDefinition = {
  group: PLACEMENT_REVIEW_GROUP,
  versions: [PLACEMENT_REVIEW_VERSION],
  kind: PLACEMENT_REVIEW_KIND,
  plural: 'placementreviews',
  singular: 'placementreview',
  namespaced: false,
  verbs: ['create'],
  tracksGeneration: false,
  strategicMerge: false,
};

const POLICY_KINDS: Readonly<Record<string, PolicyKind>> = { PropagationPolicy: 'PropagationPolicy', ClusterPropagationPolicy: 'ClusterPropagationPolicy' };

export async function placementReview(body: KubeObject, ctx: ResourceContext): Promise<KubeObject> {
  const spec = isPlainObject(body['spec']) ? body['spec'] : undefined;
  const causes: StatusCause[] = [];
  const template = spec && isPlainObject(spec['template']) ? (spec['template'] as KubeObject) : undefined;
  if (!template) causes.push(cause.required('spec.template'));
  else {
    if (typeof template.apiVersion !== 'string' || template.apiVersion === '') causes.push(cause.required('spec.template.apiVersion'));
    if (typeof template.kind !== 'string' || template.kind === '') causes.push(cause.required('spec.template.kind'));
    if (!isPlainObject(template.metadata) || typeof template.metadata.name !== 'string' || template.metadata.name === '') causes.push(cause.required('spec.template.metadata.name'));
  }
  const rawPolicy = spec?.['policy'];
  if (rawPolicy !== undefined && (!isPlainObject(rawPolicy) || !POLICY_KINDS[String(rawPolicy['kind'])])) {
    causes.push(cause.notSupported('spec.policy.kind', isPlainObject(rawPolicy) ? rawPolicy['kind'] : rawPolicy, Object.keys(POLICY_KINDS)));
  }
  if (causes.length > 0 || !template) throw errors.invalid(PLACEMENT_REVIEW_KIND, PLACEMENT_REVIEW_GROUP, '', causes);

  const find = (group: string, plural: string): ResourceDefinition => {
    const def = ctx.registry.all().find((d) => d.group === group && d.plural === plural);
    if (!def) throw errors.internal(`${plural}.${group} is not served`);
    return def;
  };
  const snapshot = async (def: ResourceDefinition, namespace?: string) => (await ctx.objects.snapshot(def, namespace !== undefined ? `${keyPrefix(def)}${namespace}/` : keyPrefix(def))).objects;
  const namespace = template.metadata.namespace || undefined;

  let policy: { kind: PolicyKind; object: KubeObject } | undefined;
  if (isPlainObject(rawPolicy)) {
    const kind = POLICY_KINDS[String(rawPolicy['kind'])] as PolicyKind;
    const def = find('policy.karmada.io', kind === 'PropagationPolicy' ? 'propagationpolicies' : 'clusterpropagationpolicies');
    const object = structuredClone(rawPolicy) as KubeObject;
    object.metadata = isPlainObject(object.metadata) ? object.metadata : {};
    object.metadata.name ||= 'review';
    if (kind === 'PropagationPolicy') object.metadata.namespace = namespace ?? object.metadata.namespace ?? 'default';
    else delete object.metadata.namespace;
    await ctx.admission.admit(def, object, undefined, { fieldValidation: 'Ignore', warnings: [] });
    policy = { kind, object };
  }

  const [group, version] = template.apiVersion?.includes('/') ? template.apiVersion.split('/') : ['', template.apiVersion ?? ''];
  const templateDef = ctx.registry.all().find((d) => d.group === group && d.kind === template.kind && d.versions.includes(version ?? ''));
  const where = bindingLocation(template);
  const bindings = await snapshot(find('work.karmada.io', where.namespace ? 'resourcebindings' : 'clusterresourcebindings'), where.namespace);
  const status = reviewPlacement({
    template,
    ...(policy ? { policy } : {}),
    propagationPolicies: namespace ? await snapshot(find('policy.karmada.io', 'propagationpolicies'), namespace) : [],
    clusterPropagationPolicies: await snapshot(find('policy.karmada.io', 'clusterpropagationpolicies')),
    clusters: await snapshot(find('cluster.karmada.io', 'clusters')),
    ...(() => {
      const binding = bindings.find((b) => b.metadata.name === where.name);
      return binding ? { binding } : {};
    })(),
    ...(templateDef?.scaleSubresource ? { specReplicasPath: templateDef.scaleSubresource.specReplicasPath } : {}),
  });
  return { apiVersion: `${PLACEMENT_REVIEW_GROUP}/${PLACEMENT_REVIEW_VERSION}`, kind: PLACEMENT_REVIEW_KIND, metadata: { ...(isPlainObject(body.metadata) ? body.metadata : {}) }, spec: spec ?? {}, status: status as unknown as Record<string, unknown> };
}
