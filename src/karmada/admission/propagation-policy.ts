import { randomUUID } from 'node:crypto';
import type { KubeObject } from '../../api/object.js';
import { cause } from '../../api/status.js';
import type { StatusCause } from '../../api/status.js';
import { addFinalizer, asArray, asNumber, asObject, asString, isSet, labelValue, setLabel, spec, validateLabelKey, validateResourceSelectors } from './common.js';
import type { KarmadaAdmissionPlugin, KarmadaAdmissionRequest } from './plugin.js';
import { defaultPlacement, validatePlacement } from './placement.js';

/**
 * PropagationPolicy and ClusterPropagationPolicy admission (karmada-api.md §2.2, §4.10): the two kinds
 * share their spec and rules; only the namespaced one defaults and pins its selectors' namespace.
 */
export const PROPAGATION_POLICY_ID_LABEL = 'propagationpolicy.karmada.io/permanent-id';
export const CLUSTER_PROPAGATION_POLICY_ID_LABEL = 'clusterpropagationpolicy.karmada.io/permanent-id';
export const PROPAGATION_POLICY_FINALIZER = 'karmada.io/propagation-policy-controller';
export const CLUSTER_PROPAGATION_POLICY_FINALIZER = 'karmada.io/cluster-propagation-policy-controller';

const SERVICE_IMPORT_API_VERSION = 'multicluster.x-k8s.io/v1alpha1';
/** The CRD default of spec.schedulerName. */
const DEFAULT_SCHEDULER = 'default-scheduler';

interface PolicyKind {
  readonly idLabel: string;
  readonly finalizer: string;
  /** PropagationPolicy: selectors live in (and default to) the policy's namespace. */
  readonly namespaced: boolean;
}

const policyNamespace = (request: KarmadaAdmissionRequest): string => request.namespace ?? request.object.metadata.namespace ?? '';

// ---- mutation ----

function mutatePolicy(kind: PolicyKind, request: KarmadaAdmissionRequest): void {
  const { object } = request;
  const s = spec(object);
  if (s) {
    const selectors = asArray(s['resourceSelectors']);
    const namespace = policyNamespace(request);
    for (const item of selectors) {
      const selector = asObject(item);
      if (!selector) continue;
      if (kind.namespaced && namespace && !asString(selector['namespace'])) selector['namespace'] = namespace;
    }
    defaultPlacement(s['placement']);
    if (selectors.some((item) => asString(asObject(item)?.['kind']) === 'ServiceImport' && asString(asObject(item)?.['apiVersion']) === SERVICE_IMPORT_API_VERSION)) {
      s['propagateDeps'] = true;
    }
    const application = asObject(asObject(s['failover'])?.['application']);
    if (application && purgeMode(application) === 'Gracefully' && !isSet(application['gracePeriodSeconds'])) application['gracePeriodSeconds'] = 600;
  }
  if (request.operation === 'CREATE') {
    // A fresh id on every create, even when the manifest carries one (e.g. copied from another policy).
    setLabel(object, kind.idLabel, randomUUID());
    addFinalizer(object, kind.finalizer);
  }
}

/** Application failover purge mode; absent is the CRD default Gracefully. */
const purgeMode = (application: Record<string, unknown>): string => {
  const mode = application['purgeMode'];
  return mode === undefined || mode === null ? 'Gracefully' : asString(mode);
};

// ---- validation ----

function validateStatePreservation(preservation: unknown, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  asArray(asObject(preservation)?.['rules']).forEach((item, i) => {
    const rule = asObject(item);
    if (rule) causes.push(...validateLabelKey(rule['aliasLabelName'], `${path}.rules[${i}].aliasLabelName`));
  });
  return causes;
}

function validateFailover(s: Record<string, unknown>, path: string): StatusCause[] {
  const failover = asObject(s['failover']);
  if (!failover) return [];
  const causes: StatusCause[] = [];
  const application = asObject(failover['application']);
  if (application) {
    if (s['propagateDeps'] !== true) causes.push(cause.invalid('spec.propagateDeps', s['propagateDeps'] ?? false, 'must be true when application failover is configured'));
    const appPath = `${path}.application`;
    const toleration = asNumber(asObject(application['decisionConditions'])?.['tolerationSeconds']);
    if (toleration !== undefined && toleration < 0) causes.push(cause.invalid(`${appPath}.decisionConditions.tolerationSeconds`, toleration, 'must be greater than or equal to 0'));
    const grace = application['gracePeriodSeconds'];
    const gracePath = `${appPath}.gracePeriodSeconds`;
    const gracefully = purgeMode(application) === 'Gracefully';
    if (!gracefully && isSet(grace)) causes.push(cause.forbidden(gracePath, 'may only be set when purgeMode is Gracefully'));
    if (gracefully && !isSet(grace)) causes.push(cause.required(gracePath, 'must be set when purgeMode is Gracefully'));
    const graceSeconds = asNumber(grace);
    if (graceSeconds !== undefined && graceSeconds <= 0) causes.push(cause.invalid(gracePath, graceSeconds, 'must be greater than 0'));
    causes.push(...validateStatePreservation(application['statePreservation'], `${appPath}.statePreservation`));
  }
  const cluster = asObject(failover['cluster']);
  if (cluster) causes.push(...validateStatePreservation(cluster['statePreservation'], `${path}.cluster.statePreservation`));
  return causes;
}

function validateSuspension(suspension: unknown, path: string): StatusCause[] {
  const s = asObject(suspension);
  if (!s || s['dispatching'] !== true) return [];
  if (asArray(asObject(s['dispatchingOnClusters'])?.['clusterNames']).length === 0) return [];
  return [cause.forbidden(`${path}.dispatchingOnClusters`, 'may not name clusters when dispatching is true (dispatching already suspends every cluster)')];
}

/** The spec rules shared by both kinds; `namespace` is the policy's namespace ('' for the cluster-scoped kind). */
export function validatePropagationSpec(specValue: unknown, namespace: string): StatusCause[] {
  const s = asObject(specValue);
  if (!s) return [];
  return [
    ...validatePlacement(s['placement'], 'spec.placement'),
    ...validateFailover(s, 'spec.failover'),
    ...(asArray(s['resourceSelectors']).length === 0 ? [cause.required('spec.resourceSelectors', 'at least one resource selector is needed')] : validateResourceSelectors(s['resourceSelectors'], namespace, 'spec.resourceSelectors', s['preemption'] === 'Always')),
    ...validateSuspension(s['suspension'], 'spec.suspension'),
  ];
}

const schedulerName = (object: KubeObject | undefined): string => {
  const name = spec(object ?? { metadata: {} })?.['schedulerName'];
  return name === undefined || name === null ? DEFAULT_SCHEDULER : asString(name);
};

function validatePolicy(kind: PolicyKind, request: KarmadaAdmissionRequest): StatusCause[] {
  const { object, old } = request;
  const causes: StatusCause[] = [];
  const labelPath = `metadata.labels[${kind.idLabel}]`;
  const id = labelValue(object, kind.idLabel);
  if (id === undefined) {
    causes.push(cause.required(labelPath, 'the permanent id is set by the system when the policy is created'));
  } else if (request.operation === 'UPDATE' && old && id !== (labelValue(old, kind.idLabel) ?? '')) {
    causes.push(cause.invalid(labelPath, id, 'field is immutable: the permanent id is set by the system when the policy is created'));
  }
  if (request.operation === 'UPDATE' && old && schedulerName(object) !== schedulerName(old)) {
    causes.push(cause.invalid('spec.schedulerName', schedulerName(object), 'field is immutable'));
  }
  causes.push(...validatePropagationSpec(object['spec'], kind.namespaced ? policyNamespace(request) : ''));
  return causes;
}

function policyPlugin(kind: PolicyKind): KarmadaAdmissionPlugin {
  return {
    mutate: (request) => mutatePolicy(kind, request),
    validate: (request) => validatePolicy(kind, request),
  };
}

export const propagationPolicyAdmission = policyPlugin({ idLabel: PROPAGATION_POLICY_ID_LABEL, finalizer: PROPAGATION_POLICY_FINALIZER, namespaced: true });
export const clusterPropagationPolicyAdmission = policyPlugin({ idLabel: CLUSTER_PROPAGATION_POLICY_ID_LABEL, finalizer: CLUSTER_PROPAGATION_POLICY_FINALIZER, namespaced: false });
