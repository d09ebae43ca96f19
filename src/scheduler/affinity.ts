import { labelSelectorFromObject } from '../api/label-selector.js';
import type { ClusterAffinity, ClusterObject, LabelSelector, NodeSelectorRequirement } from './types.js';

/**
 * Karmada's cluster affinity matching (`util.ClusterMatches`): a cluster matches a ClusterAffinity
 * when it is not excluded, its labels satisfy `labelSelector`, its spec fields satisfy
 * `fieldSelector`, and `clusterNames` (when non-empty) lists it. All parts are AND-ed; an absent
 * part does not constrain.
 */
export function clusterMatches(cluster: ClusterObject, affinity: ClusterAffinity): boolean {
  const name = cluster.metadata.name;
  if ((affinity.exclude ?? []).includes(name)) return false;
  if (affinity.labelSelector && !labelsMatch(affinity.labelSelector, cluster.metadata.labels ?? {})) return false;
  if (affinity.fieldSelector && !fieldsMatch(affinity.fieldSelector.matchExpressions ?? [], cluster)) return false;
  const names = affinity.clusterNames ?? [];
  return names.length === 0 || names.includes(name);
}

/** metav1.LabelSelectorAsSelector then Matches; a selector that does not convert matches nothing. */
/** Parsed selectors by their (immutable, cached) placement object: one parse per selector, not per cluster and decision. */
const parsedSelectors = new WeakMap<LabelSelector, ((labels: Readonly<Record<string, string>>) => boolean)>();

function labelsMatch(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  let matches = parsedSelectors.get(selector);
  if (!matches) {
    try {
      const parsed = labelSelectorFromObject(selector as Parameters<typeof labelSelectorFromObject>[0]);
      matches = (l) => parsed.matches(l);
    } catch {
      matches = () => false;
    }
    parsedSelectors.set(selector, matches);
  }
  return matches(labels);
}

/**
 * The field selector: `zone` requirements are checked against `spec.zones` as a set (In: some zone
 * listed; NotIn: no zone listed; Exists/DoesNotExist: zones non-empty/empty); every other key is a
 * label-style requirement over the pseudo-labels `provider` and `region` (set only when the spec
 * field is non-empty), so `region NotIn (x)` matches a cluster without a region. An empty list of
 * non-zone requirements matches; an invalid requirement matches nothing.
 */
function fieldsMatch(requirements: readonly NodeSelectorRequirement[], cluster: ClusterObject): boolean {
  const zones = cluster.spec?.zones ?? [];
  const others: NodeSelectorRequirement[] = [];
  for (const requirement of requirements) {
    if (requirement.key === 'zone') {
      if (!zonesMatch(requirement, zones)) return false;
    } else {
      others.push(requirement);
    }
  }
  if (others.length === 0) return true;
  const fields: Record<string, string> = {};
  if (cluster.spec?.provider) fields['provider'] = cluster.spec.provider;
  if (cluster.spec?.region) fields['region'] = cluster.spec.region;
  return others.every((requirement) => requirementMatches(requirement, fields));
}

function zonesMatch(requirement: NodeSelectorRequirement, zones: readonly string[]): boolean {
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return zones.some((zone) => values.includes(zone));
    case 'NotIn':
      return !zones.some((zone) => values.includes(zone));
    case 'Exists':
      return zones.length > 0;
    case 'DoesNotExist':
      return zones.length === 0;
    default:
      return false;
  }
}

const INTEGER = /^[+-]?\d+$/;

/** One NodeSelectorRequirement as a label requirement (kube's NodeSelectorRequirementsAsSelector). */
function requirementMatches(requirement: NodeSelectorRequirement, fields: Readonly<Record<string, string>>): boolean {
  const values = requirement.values ?? [];
  if (requirement.operator === 'Gt' || requirement.operator === 'Lt') {
    const bound = values.length === 1 && INTEGER.test(values[0] ?? '') ? BigInt(values[0] ?? '0') : undefined;
    const actualText = fields[requirement.key];
    if (bound === undefined || actualText === undefined || !INTEGER.test(actualText)) return false;
    const actual = BigInt(actualText);
    return requirement.operator === 'Gt' ? actual > bound : actual < bound;
  }
  if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(requirement.operator)) return false;
  return labelsMatch({ matchExpressions: [{ key: requirement.key, operator: requirement.operator, values }] }, fields);
}
