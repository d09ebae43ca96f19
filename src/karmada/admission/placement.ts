import { cause } from '../../api/status.js';
import type { StatusCause } from '../../api/status.js';
import { asArray, asNumber, asObject, asString, isSet, validateLabelKey, validateLabelSelector } from './common.js';
import type { Obj } from './common.js';

/**
 * Placement (karmada-api.md §2.3): the defaults Karmada's policy webhooks fill in and the rules they
 * enforce, shared by PropagationPolicy and ClusterPropagationPolicy. Cluster affinities are also
 * checked for override policies' target clusters.
 */

/** The Cluster fields a policy fieldSelector may match on. */
export const FIELD_SELECTOR_KEYS = ['provider', 'region', 'zone'];
const FIELD_SELECTOR_OPERATORS = ['In', 'NotIn'];
const TOLERATION_OPERATORS = ['Equal', 'Exists'];
const TOLERATION_EFFECTS = ['NoExecute', 'NoSchedule', 'PreferNoSchedule'];

/**
 * The effective replica scheduling type: Duplicated without a replicaScheduling block; with one, its
 * type, where an absent type is the CRD default Divided.
 */
export function replicaSchedulingType(placement: Obj | undefined): string {
  const strategy = asObject(placement?.['replicaScheduling']);
  if (!strategy) return 'Duplicated';
  const type = strategy['replicaSchedulingType'];
  return type === undefined || type === null ? 'Divided' : asString(type);
}

/** Overflow affinities need Divided replicas with Aggregated division or dynamic weights. */
function overflowAllowed(placement: Obj): boolean {
  if (replicaSchedulingType(placement) !== 'Divided') return false;
  const strategy = asObject(placement['replicaScheduling']);
  switch (asString(strategy?.['replicaDivisionPreference'])) {
    case 'Aggregated':
      return true;
    case 'Weighted':
      return asString(asObject(strategy?.['weightPreference'])?.['dynamicWeight']) !== '';
    default:
      return false;
  }
}

/** An affinity with no selection criteria at all. */
function emptyAffinity(affinity: Obj): boolean {
  return !isSet(affinity['labelSelector']) && !isSet(affinity['fieldSelector']) && asArray(affinity['clusterNames']).length === 0 && asArray(affinity['exclude']).length === 0;
}

// ---- mutation ----

/** The placement defaults of the policy webhooks: spread constraints and Weighted division. */
export function defaultPlacement(placement: unknown): void {
  const p = asObject(placement);
  if (!p) return;
  for (const item of asArray(p['spreadConstraints'])) {
    const constraint = asObject(item);
    if (!constraint) continue;
    if (!asString(constraint['spreadByLabel']) && !asString(constraint['spreadByField'])) constraint['spreadByField'] = 'cluster';
    const minGroups = constraint['minGroups'];
    if (minGroups === undefined || minGroups === null || minGroups === 0) constraint['minGroups'] = 1;
  }
  const strategy = asObject(p['replicaScheduling']);
  if (strategy && replicaSchedulingType(p) === 'Divided' && !asString(strategy['replicaDivisionPreference'])) {
    strategy['replicaDivisionPreference'] = 'Weighted';
  }
}

// ---- validation ----

/** A ClusterAffinity: fieldSelector keys and operators, labelSelector well-formed. */
export function validateClusterAffinity(affinity: unknown, path: string): StatusCause[] {
  const a = asObject(affinity);
  if (!a) return [];
  const causes = validateLabelSelector(a['labelSelector'], `${path}.labelSelector`);
  asArray(asObject(a['fieldSelector'])?.['matchExpressions']).forEach((item, i) => {
    const expr = asObject(item);
    if (!expr) return;
    const exprPath = `${path}.fieldSelector.matchExpressions[${i}]`;
    const key = asString(expr['key']);
    if (!FIELD_SELECTOR_KEYS.includes(key)) causes.push(cause.notSupported(`${exprPath}.key`, key, FIELD_SELECTOR_KEYS));
    const operator = asString(expr['operator']);
    if (!FIELD_SELECTOR_OPERATORS.includes(operator)) causes.push(cause.notSupported(`${exprPath}.operator`, operator, FIELD_SELECTOR_OPERATORS));
  });
  return causes;
}

function validateAffinityTerms(placement: Obj, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const allowOverflow = overflowAllowed(placement);
  const names = new Set<string>();
  asArray(placement['clusterAffinities']).forEach((item, i) => {
    const term = asObject(item);
    if (!term) return;
    const termPath = `${path}[${i}]`;
    const name = asString(term['affinityName']);
    causes.push(...validateLabelKey(name, `${termPath}.affinityName`));
    if (names.has(name)) causes.push(cause.duplicate(`${termPath}.affinityName`, name));
    names.add(name);
    causes.push(...validateClusterAffinity(term, termPath));

    const overflow = term['overflowAffinities'];
    if (!isSet(overflow)) return;
    const overflowPath = `${termPath}.overflowAffinities`;
    if (!allowOverflow) {
      causes.push(cause.forbidden(overflowPath, 'overflow affinities need Divided replica scheduling with Aggregated division or dynamic weights'));
    }
    if (emptyAffinity(term)) {
      causes.push(cause.forbidden(overflowPath, 'overflow affinities need the term itself to select clusters (labelSelector, fieldSelector, clusterNames or exclude)'));
    }
    const overflowNames = new Set([name]);
    asArray(overflow).forEach((entry, j) => {
      const oa = asObject(entry);
      if (!oa) return;
      const oaPath = `${overflowPath}[${j}]`;
      const oaName = asString(oa['affinityName']);
      causes.push(...validateLabelKey(oaName, `${oaPath}.affinityName`));
      if (overflowNames.has(oaName)) causes.push(cause.duplicate(`${oaPath}.affinityName`, oaName));
      overflowNames.add(oaName);
      causes.push(...validateClusterAffinity(oa, oaPath));
    });
  });
  return causes;
}

function validateSpreadConstraints(constraints: unknown, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const byField = new Set<string>();
  asArray(constraints).forEach((item, i) => {
    const c = asObject(item);
    if (!c) return;
    const itemPath = `${path}[${i}]`;
    const field = asString(c['spreadByField']);
    if (field && asString(c['spreadByLabel'])) causes.push(cause.forbidden(`${itemPath}.spreadByLabel`, 'may not be set together with spreadByField'));
    const minGroups = asNumber(c['minGroups']) ?? 0;
    const maxGroups = asNumber(c['maxGroups']) ?? 0;
    if (minGroups < 0) causes.push(cause.invalid(`${itemPath}.minGroups`, minGroups, 'must be greater than or equal to 0'));
    if (maxGroups < 0) causes.push(cause.invalid(`${itemPath}.maxGroups`, maxGroups, 'must be greater than or equal to 0'));
    if (maxGroups > 0 && maxGroups < minGroups) causes.push(cause.invalid(`${itemPath}.maxGroups`, maxGroups, `must be greater than or equal to minGroups (${minGroups})`));
    if (field) {
      if (byField.has(field)) causes.push(cause.duplicate(`${itemPath}.spreadByField`, field));
      byField.add(field);
    }
  });
  if (byField.size > 0 && !byField.has('cluster')) {
    causes.push(cause.required(path, 'a constraint with spreadByField "cluster" is needed whenever any constraint spreads by field'));
  }
  return causes;
}

function validateWorkloadAffinity(workloadAffinity: unknown, path: string): StatusCause[] {
  const wa = asObject(workloadAffinity);
  if (!wa) return [];
  const causes: StatusCause[] = [];
  const affinity = asObject(wa['affinity']);
  const anti = asObject(wa['antiAffinity']);
  if (affinity) causes.push(...validateLabelKey(affinity['groupByLabelKey'], `${path}.affinity.groupByLabelKey`));
  if (anti) causes.push(...validateLabelKey(anti['groupByLabelKey'], `${path}.antiAffinity.groupByLabelKey`));
  if (affinity && anti && asString(affinity['groupByLabelKey']) === asString(anti['groupByLabelKey'])) {
    causes.push(cause.invalid(`${path}.antiAffinity.groupByLabelKey`, asString(anti['groupByLabelKey']), 'must differ from affinity.groupByLabelKey'));
  }
  return causes;
}

function validateTolerations(tolerations: unknown, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  asArray(tolerations).forEach((item, i) => {
    const t = asObject(item);
    if (!t) return;
    // Lt/Gt (kube's comparison operators) are refused: Karmada has not defined them for clusters.
    const operator = asString(t['operator']);
    if (operator !== '' && !TOLERATION_OPERATORS.includes(operator)) causes.push(cause.notSupported(`${path}[${i}].operator`, operator, TOLERATION_OPERATORS));
    const effect = asString(t['effect']);
    if (effect !== '' && !TOLERATION_EFFECTS.includes(effect)) causes.push(cause.notSupported(`${path}[${i}].effect`, effect, TOLERATION_EFFECTS));
  });
  return causes;
}

function validateStaticWeights(placement: Obj, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const weights = asObject(asObject(placement['replicaScheduling'])?.['weightPreference'])?.['staticWeightList'];
  asArray(weights).forEach((item, i) => {
    const entry = asObject(item);
    if (!entry) return;
    const entryPath = `${path}[${i}]`;
    if (!asObject(entry['targetCluster'])) causes.push(cause.required(`${entryPath}.targetCluster`));
    else causes.push(...validateClusterAffinity(entry['targetCluster'], `${entryPath}.targetCluster`));
    const weight = asNumber(entry['weight']);
    if (weight !== undefined && weight < 1) causes.push(cause.invalid(`${entryPath}.weight`, weight, 'must be greater than or equal to 1'));
  });
  return causes;
}

/** Every placement rule of the policy webhooks. */
export function validatePlacement(placement: unknown, path: string): StatusCause[] {
  const p = asObject(placement);
  if (!p) return [];
  const causes: StatusCause[] = [];
  if (isSet(p['clusterAffinity']) && isSet(p['clusterAffinities'])) {
    causes.push(cause.forbidden(path, 'clusterAffinity and clusterAffinities may not both be set'));
  }
  causes.push(
    ...validateClusterAffinity(p['clusterAffinity'], `${path}.clusterAffinity`),
    ...validateAffinityTerms(p, `${path}.clusterAffinities`),
    ...validateSpreadConstraints(p['spreadConstraints'], `${path}.spreadConstraints`),
    ...validateWorkloadAffinity(p['workloadAffinity'], `${path}.workloadAffinity`),
    ...validateTolerations(p['clusterTolerations'], `${path}.clusterTolerations`),
    ...validateStaticWeights(p, `${path}.replicaScheduling.weightPreference.staticWeightList`),
  );
  return causes;
}
