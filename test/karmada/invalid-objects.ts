/**
 * Objects Karmada's admission refuses, each with its valid twin (the minimal fix of the same object)
 * and the field the refusal must name. Every invalid object is well-typed for its schema: only the
 * admission rules (src/karmada/admission) catch it. Shared by test/karmada/admission.test.ts (the
 * plugins alone) and conformance/karmada-api.test.ts (a real server: 422 naming the field).
 */
export interface InvalidCase {
  readonly name: string;
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly invalid: Record<string, unknown>;
  readonly valid: Record<string, unknown>;
  readonly field: string;
}

type Spec = Record<string, unknown>;

interface KindInfo {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

const PP: KindInfo = { group: 'policy.karmada.io', version: 'v1alpha1', plural: 'propagationpolicies', kind: 'PropagationPolicy', namespaced: true };
const CPP: KindInfo = { group: 'policy.karmada.io', version: 'v1alpha1', plural: 'clusterpropagationpolicies', kind: 'ClusterPropagationPolicy', namespaced: false };
const OP: KindInfo = { group: 'policy.karmada.io', version: 'v1alpha1', plural: 'overridepolicies', kind: 'OverridePolicy', namespaced: true };
const COP: KindInfo = { group: 'policy.karmada.io', version: 'v1alpha1', plural: 'clusteroverridepolicies', kind: 'ClusterOverridePolicy', namespaced: false };
const CLUSTER: KindInfo = { group: 'cluster.karmada.io', version: 'v1alpha1', plural: 'clusters', kind: 'Cluster', namespaced: false };
const RB: KindInfo = { group: 'work.karmada.io', version: 'v1alpha2', plural: 'resourcebindings', kind: 'ResourceBinding', namespaced: true };
const CRB: KindInfo = { group: 'work.karmada.io', version: 'v1alpha2', plural: 'clusterresourcebindings', kind: 'ClusterResourceBinding', namespaced: false };
const WORK: KindInfo = { group: 'work.karmada.io', version: 'v1alpha1', plural: 'works', kind: 'Work', namespaced: true };

const NAMESPACE = 'default';

interface Metadata {
  readonly invalid?: Record<string, unknown>;
  readonly valid?: Record<string, unknown>;
}

function object(k: KindInfo, name: string, spec: Spec, metadata: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: `${k.group}/${k.version}`,
    kind: k.kind,
    metadata: { name, ...(k.namespaced ? { namespace: NAMESPACE } : {}), ...metadata },
    spec,
  };
}

function make(k: KindInfo, name: string, field: string, objectName: string, invalid: Spec, valid: Spec, metadata: Metadata = {}): InvalidCase {
  return {
    name,
    group: k.group,
    version: k.version,
    plural: k.plural,
    kind: k.kind,
    ...(k.namespaced ? { namespace: NAMESPACE } : {}),
    invalid: object(k, objectName, invalid, metadata.invalid),
    valid: object(k, objectName, valid, metadata.valid),
    field,
  };
}

// ---- building blocks ----

const DEPLOYMENT = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'nginx' };
const selectors = (extra: Spec = {}): Spec[] => [{ ...DEPLOYMENT, ...extra }];
const members = { clusterNames: ['member1', 'member2'] };
/** A propagation spec selecting the nginx Deployment with the given placement and extra spec fields. */
const propagation = (placement: Spec, extra: Spec = {}): Spec => ({ resourceSelectors: selectors(), placement, ...extra });
const failover = (application: Spec): Spec => ({ application: { decisionConditions: { tolerationSeconds: 30 }, ...application } });
/** An override spec for the nginx Deployment with one rule on member1. */
const override = (overriders: Spec, extra: Spec = {}): Spec => ({ resourceSelectors: selectors(), overrideRules: [{ targetCluster: { clusterNames: ['member1'] }, overriders }], ...extra });
const RULE = 'spec.overrideRules[0].overriders';

const clusterSpec = (extra: Spec = {}): Spec => ({ syncMode: 'Push', apiEndpoint: 'https://10.10.10.10:6443', secretRef: { namespace: 'karmada-cluster', name: 'member-secret' }, ...extra });
const MAX = '9223372036854775807';
const grade = (g: number, cpu: [string, string], memory: [string, string]): Spec => ({ grade: g, ranges: [{ name: 'cpu', min: cpu[0], max: cpu[1] }, { name: 'memory', min: memory[0], max: memory[1] }] });

const bindingSpec = (extra: Spec = {}, resource: Spec = {}): Spec => ({
  resource: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: NAMESPACE, name: 'nginx', ...resource },
  replicas: 2,
  clusters: [{ name: 'member1', replicas: 1 }, { name: 'member2', replicas: 1 }],
  ...extra,
});
const crbSpec = (extra: Spec = {}, resource: Spec = {}): Spec => ({
  resource: { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'guestbooks.webapp.my.domain', ...resource },
  clusters: [{ name: 'member1' }],
  ...extra,
});
const workSpec = (manifest: Spec): Spec => ({ workload: { manifests: [manifest] } });
const CONFIGMAP = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: NAMESPACE }, data: { mode: 'fast' } };

export const INVALID_CASES: readonly InvalidCase[] = [
  // ---- PropagationPolicy ----
  make(PP, 'pp: clusterAffinity and clusterAffinities both set', 'spec.placement', 'pp-affinity-xor',
    propagation({ clusterAffinity: members, clusterAffinities: [{ affinityName: 'primary', ...members }] }),
    propagation({ clusterAffinities: [{ affinityName: 'primary', ...members }] })),
  make(PP, 'pp: fieldSelector key is not provider, region or zone', 'spec.placement.clusterAffinity.fieldSelector.matchExpressions[0].key', 'pp-field-key',
    propagation({ clusterAffinity: { fieldSelector: { matchExpressions: [{ key: 'country', operator: 'In', values: ['de'] }] } } }),
    propagation({ clusterAffinity: { fieldSelector: { matchExpressions: [{ key: 'region', operator: 'In', values: ['de'] }] } } })),
  make(PP, 'pp: fieldSelector operator Exists', 'spec.placement.clusterAffinity.fieldSelector.matchExpressions[0].operator', 'pp-field-operator',
    propagation({ clusterAffinity: { fieldSelector: { matchExpressions: [{ key: 'provider', operator: 'Exists' }] } } }),
    propagation({ clusterAffinity: { fieldSelector: { matchExpressions: [{ key: 'provider', operator: 'In', values: ['aws'] }] } } })),
  make(PP, "pp: selector namespace is not the policy's", 'spec.resourceSelectors[0].namespace', 'pp-selector-namespace',
    { resourceSelectors: selectors({ namespace: 'kube-system' }), placement: { clusterAffinity: members } },
    { resourceSelectors: selectors({ namespace: NAMESPACE }), placement: { clusterAffinity: members } }),
  make(PP, 'pp: selector with an empty apiVersion', 'spec.resourceSelectors[0].apiVersion', 'pp-selector-apiversion',
    { resourceSelectors: selectors({ apiVersion: '' }), placement: { clusterAffinity: members } },
    { resourceSelectors: selectors(), placement: { clusterAffinity: members } }),
  make(PP, 'pp: selector labelSelector In without values', 'spec.resourceSelectors[0].labelSelector.matchExpressions[0].values', 'pp-selector-labels',
    { resourceSelectors: [{ apiVersion: 'apps/v1', kind: 'Deployment', labelSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] } }], placement: { clusterAffinity: members } },
    { resourceSelectors: [{ apiVersion: 'apps/v1', kind: 'Deployment', labelSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['nginx'] }] } }], placement: { clusterAffinity: members } }),
  make(PP, 'pp: clusterAffinity labelSelector with an invalid key', 'spec.placement.clusterAffinity.labelSelector.matchLabels[bad key!]', 'pp-affinity-labels',
    propagation({ clusterAffinity: { labelSelector: { matchLabels: { 'bad key!': 'x' } } } }),
    propagation({ clusterAffinity: { labelSelector: { matchLabels: { 'good-key': 'x' } } } })),
  make(PP, 'pp: two affinity terms with the same name', 'spec.placement.clusterAffinities[1].affinityName', 'pp-affinity-duplicate',
    propagation({ clusterAffinities: [{ affinityName: 'primary', clusterNames: ['member1'] }, { affinityName: 'primary', clusterNames: ['member2'] }] }),
    propagation({ clusterAffinities: [{ affinityName: 'primary', clusterNames: ['member1'] }, { affinityName: 'backup', clusterNames: ['member2'] }] })),
  make(PP, 'pp: affinity name that is not a label key', 'spec.placement.clusterAffinities[0].affinityName', 'pp-affinity-name',
    propagation({ clusterAffinities: [{ affinityName: 'primary group', ...members }] }),
    propagation({ clusterAffinities: [{ affinityName: 'primary-group', ...members }] })),
  make(PP, 'pp: overflowAffinities with Duplicated replicas', 'spec.placement.clusterAffinities[0].overflowAffinities', 'pp-overflow-duplicated',
    propagation({ clusterAffinities: [{ affinityName: 'primary', clusterNames: ['member1'], overflowAffinities: [{ affinityName: 'burst', clusterNames: ['member2'] }] }] }),
    propagation({
      clusterAffinities: [{ affinityName: 'primary', clusterNames: ['member1'], overflowAffinities: [{ affinityName: 'burst', clusterNames: ['member2'] }] }],
      replicaScheduling: { replicaSchedulingType: 'Divided', replicaDivisionPreference: 'Aggregated' },
    })),
  make(PP, 'pp: spread constraint with both spreadByField and spreadByLabel', 'spec.placement.spreadConstraints[0].spreadByLabel', 'pp-spread-field-and-label',
    propagation({ clusterAffinity: members, spreadConstraints: [{ spreadByField: 'cluster', spreadByLabel: 'topology/zone', maxGroups: 2, minGroups: 1 }] }),
    propagation({ clusterAffinity: members, spreadConstraints: [{ spreadByField: 'cluster', maxGroups: 2, minGroups: 1 }] })),
  make(PP, 'pp: negative minGroups', 'spec.placement.spreadConstraints[0].minGroups', 'pp-spread-min-negative',
    propagation({ clusterAffinity: members, spreadConstraints: [{ spreadByField: 'cluster', minGroups: -1 }] }),
    propagation({ clusterAffinity: members, spreadConstraints: [{ spreadByField: 'cluster', minGroups: 1 }] })),
  make(PP, 'pp: maxGroups below minGroups', 'spec.placement.spreadConstraints[0].maxGroups', 'pp-spread-max-below-min',
    propagation({ clusterAffinity: members, spreadConstraints: [{ spreadByField: 'cluster', minGroups: 3, maxGroups: 2 }] }),
    propagation({ clusterAffinity: members, spreadConstraints: [{ spreadByField: 'cluster', minGroups: 3, maxGroups: 3 }] })),
  make(PP, 'pp: two spread constraints by cluster', 'spec.placement.spreadConstraints[1].spreadByField', 'pp-spread-duplicate',
    propagation({ clusterAffinity: members, spreadConstraints: [{ spreadByField: 'cluster', minGroups: 1 }, { spreadByField: 'cluster', minGroups: 2 }] }),
    propagation({ clusterAffinity: members, spreadConstraints: [{ spreadByField: 'cluster', minGroups: 1 }, { spreadByField: 'region', minGroups: 2 }] })),
  make(PP, 'pp: spread by region without a cluster constraint', 'spec.placement.spreadConstraints', 'pp-spread-no-cluster',
    propagation({ clusterAffinity: members, spreadConstraints: [{ spreadByField: 'region', minGroups: 2 }] }),
    propagation({ clusterAffinity: members, spreadConstraints: [{ spreadByField: 'region', minGroups: 2 }, { spreadByField: 'cluster', minGroups: 2 }] })),
  make(PP, 'pp: toleration with operator Lt', 'spec.placement.clusterTolerations[0].operator', 'pp-toleration-lt',
    propagation({ clusterAffinity: members, clusterTolerations: [{ key: 'cluster.karmada.io/not-ready', operator: 'Lt', value: '5', effect: 'NoSchedule' }] }),
    propagation({ clusterAffinity: members, clusterTolerations: [{ key: 'cluster.karmada.io/not-ready', operator: 'Exists', effect: 'NoSchedule' }] })),
  make(PP, 'pp: negative maxGroups', 'spec.placement.spreadConstraints[0].maxGroups', 'pp-spread-max-negative',
    propagation({ clusterAffinity: members, spreadConstraints: [{ spreadByField: 'cluster', maxGroups: -1 }] }),
    propagation({ clusterAffinity: members, spreadConstraints: [{ spreadByField: 'cluster', maxGroups: 1 }] })),
  make(PP, 'pp: static weight whose target cluster selects on an unsupported field', 'spec.placement.replicaScheduling.weightPreference.staticWeightList[0].targetCluster.fieldSelector.matchExpressions[0].key', 'pp-weight-target',
    propagation({ clusterAffinity: members, replicaScheduling: { replicaSchedulingType: 'Divided', replicaDivisionPreference: 'Weighted', weightPreference: { staticWeightList: [{ targetCluster: { fieldSelector: { matchExpressions: [{ key: 'name', operator: 'In', values: ['member1'] }] } }, weight: 1 }] } } }),
    propagation({ clusterAffinity: members, replicaScheduling: { replicaSchedulingType: 'Divided', replicaDivisionPreference: 'Weighted', weightPreference: { staticWeightList: [{ targetCluster: { clusterNames: ['member1'] }, weight: 1 }] } } })),
  make(PP, 'pp: workload affinity and anti-affinity on the same key', 'spec.placement.workloadAffinity.antiAffinity.groupByLabelKey', 'pp-workload-affinity',
    propagation({ clusterAffinity: members, workloadAffinity: { affinity: { groupByLabelKey: 'app.group' }, antiAffinity: { groupByLabelKey: 'app.group' } } }),
    propagation({ clusterAffinity: members, workloadAffinity: { affinity: { groupByLabelKey: 'app.group' }, antiAffinity: { groupByLabelKey: 'app.replica-set' } } })),
  make(PP, 'pp: application failover without propagateDeps', 'spec.propagateDeps', 'pp-failover-deps',
    propagation({ clusterAffinity: members }, { failover: failover({ purgeMode: 'Gracefully', gracePeriodSeconds: 60 }) }),
    propagation({ clusterAffinity: members }, { propagateDeps: true, failover: failover({ purgeMode: 'Gracefully', gracePeriodSeconds: 60 }) })),
  make(PP, 'pp: gracePeriodSeconds with purgeMode Directly', 'spec.failover.application.gracePeriodSeconds', 'pp-failover-grace-directly',
    propagation({ clusterAffinity: members }, { propagateDeps: true, failover: failover({ purgeMode: 'Directly', gracePeriodSeconds: 60 }) }),
    propagation({ clusterAffinity: members }, { propagateDeps: true, failover: failover({ purgeMode: 'Directly' }) })),
  make(PP, 'pp: gracePeriodSeconds of 0', 'spec.failover.application.gracePeriodSeconds', 'pp-failover-grace-zero',
    propagation({ clusterAffinity: members }, { propagateDeps: true, failover: failover({ purgeMode: 'Gracefully', gracePeriodSeconds: 0 }) }),
    propagation({ clusterAffinity: members }, { propagateDeps: true, failover: failover({ purgeMode: 'Gracefully', gracePeriodSeconds: 1 }) })),
  make(PP, 'pp: negative failover tolerationSeconds', 'spec.failover.application.decisionConditions.tolerationSeconds', 'pp-failover-toleration',
    propagation({ clusterAffinity: members }, { propagateDeps: true, failover: { application: { decisionConditions: { tolerationSeconds: -5 }, purgeMode: 'Never' } } }),
    propagation({ clusterAffinity: members }, { propagateDeps: true, failover: { application: { decisionConditions: { tolerationSeconds: 0 }, purgeMode: 'Never' } } })),
  make(PP, 'pp: state preservation alias that is not a label name', 'spec.failover.application.statePreservation.rules[0].aliasLabelName', 'pp-failover-alias',
    propagation({ clusterAffinity: members }, { propagateDeps: true, failover: failover({ purgeMode: 'Never', statePreservation: { rules: [{ aliasLabelName: 'ready replicas', jsonPath: '{ .readyReplicas }' }] } }) }),
    propagation({ clusterAffinity: members }, { propagateDeps: true, failover: failover({ purgeMode: 'Never', statePreservation: { rules: [{ aliasLabelName: 'example.io/ready-replicas', jsonPath: '{ .readyReplicas }' }] } }) })),
  make(PP, 'pp: preemption Always with a selector without name', 'spec.resourceSelectors[0].name', 'pp-preemption',
    { resourceSelectors: [{ apiVersion: 'apps/v1', kind: 'Deployment' }], preemption: 'Always', placement: { clusterAffinity: members } },
    { resourceSelectors: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'nginx' }], preemption: 'Always', placement: { clusterAffinity: members } }),
  make(PP, 'pp: suspension dispatching with dispatchingOnClusters', 'spec.suspension.dispatchingOnClusters', 'pp-suspension',
    propagation({ clusterAffinity: members }, { suspension: { dispatching: true, dispatchingOnClusters: { clusterNames: ['member1'] } } }),
    propagation({ clusterAffinity: members }, { suspension: { dispatchingOnClusters: { clusterNames: ['member1'] } } })),

  // ---- ClusterPropagationPolicy ----
  make(CPP, 'cpp: two affinity terms with the same name', 'spec.placement.clusterAffinities[1].affinityName', 'cpp-affinity-duplicate',
    propagation({ clusterAffinities: [{ affinityName: 'east', clusterNames: ['member1'] }, { affinityName: 'east', clusterNames: ['member2'] }] }),
    propagation({ clusterAffinities: [{ affinityName: 'east', clusterNames: ['member1'] }, { affinityName: 'west', clusterNames: ['member2'] }] })),
  make(CPP, 'cpp: overflow affinity named like its primary group', 'spec.placement.clusterAffinities[0].overflowAffinities[0].affinityName', 'cpp-overflow-name',
    propagation({
      clusterAffinities: [{ affinityName: 'primary', clusterNames: ['member1'], overflowAffinities: [{ affinityName: 'primary', clusterNames: ['member2'] }] }],
      replicaScheduling: { replicaSchedulingType: 'Divided', replicaDivisionPreference: 'Aggregated' },
    }),
    propagation({
      clusterAffinities: [{ affinityName: 'primary', clusterNames: ['member1'], overflowAffinities: [{ affinityName: 'overflow', clusterNames: ['member2'] }] }],
      replicaScheduling: { replicaSchedulingType: 'Divided', replicaDivisionPreference: 'Aggregated' },
    })),
  make(CPP, 'cpp: spread by zone without a cluster constraint', 'spec.placement.spreadConstraints', 'cpp-spread-no-cluster',
    propagation({ clusterAffinity: members, spreadConstraints: [{ spreadByField: 'zone', minGroups: 2 }] }),
    propagation({ clusterAffinity: members, spreadConstraints: [{ spreadByField: 'zone', minGroups: 2 }, { spreadByField: 'cluster', minGroups: 2 }] })),
  make(CPP, 'cpp: selector with an empty kind', 'spec.resourceSelectors[0].kind', 'cpp-selector-kind',
    { resourceSelectors: [{ apiVersion: 'apiextensions.k8s.io/v1', kind: '', name: 'guestbooks.webapp.my.domain' }], placement: { clusterAffinity: members } },
    { resourceSelectors: [{ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'guestbooks.webapp.my.domain' }], placement: { clusterAffinity: members } }),
  make(CPP, 'cpp: toleration with operator Gt', 'spec.placement.clusterTolerations[0].operator', 'cpp-toleration-gt',
    propagation({ clusterAffinity: members, clusterTolerations: [{ key: 'capacity', operator: 'Gt', value: '10' }] }),
    propagation({ clusterAffinity: members, clusterTolerations: [{ key: 'capacity', operator: 'Equal', value: '10' }] })),
  make(CPP, 'cpp: preemption Always with a selector without name', 'spec.resourceSelectors[0].name', 'cpp-preemption',
    { resourceSelectors: [{ apiVersion: 'apps/v1', kind: 'Deployment', namespace: NAMESPACE }], preemption: 'Always', placement: { clusterAffinity: members } },
    { resourceSelectors: [{ apiVersion: 'apps/v1', kind: 'Deployment', namespace: NAMESPACE, name: 'nginx' }], preemption: 'Always', placement: { clusterAffinity: members } }),

  // ---- OverridePolicy ----
  make(OP, 'op: targetCluster together with overrideRules', 'spec.targetCluster', 'op-target-and-rules',
    override({ plaintext: [{ path: '/spec/replicas', operator: 'replace', value: 1 }] }, { targetCluster: { clusterNames: ['member1'] } }),
    override({ plaintext: [{ path: '/spec/replicas', operator: 'replace', value: 1 }] })),
  make(OP, 'op: overriders together with overrideRules', 'spec.overriders', 'op-overriders-and-rules',
    override({ plaintext: [{ path: '/spec/replicas', operator: 'replace', value: 1 }] }, { overriders: { plaintext: [{ path: '/spec/replicas', operator: 'replace', value: 2 }] } }),
    override({ plaintext: [{ path: '/spec/replicas', operator: 'replace', value: 1 }] })),
  make(OP, "op: selector namespace is not the policy's", 'spec.resourceSelectors[0].namespace', 'op-selector-namespace',
    { resourceSelectors: selectors({ namespace: 'other' }), overrideRules: [{ overriders: { plaintext: [{ path: '/spec/replicas', operator: 'replace', value: 1 }] } }] },
    { resourceSelectors: selectors({ namespace: NAMESPACE }), overrideRules: [{ overriders: { plaintext: [{ path: '/spec/replicas', operator: 'replace', value: 1 }] } }] }),
  make(OP, 'op: image predicate path that is not a JSON pointer', `${RULE}.imageOverrider[0].predicate.path`, 'op-image-predicate',
    override({ imageOverrider: [{ predicate: { path: 'spec.template.spec.containers.0.image' }, component: 'Registry', operator: 'replace', value: 'registry.example.io' }] }),
    override({ imageOverrider: [{ predicate: { path: '/spec/template/spec/containers/0/image' }, component: 'Registry', operator: 'replace', value: 'registry.example.io' }] })),
  make(OP, 'op: plaintext path that is not a JSON pointer', `${RULE}.plaintext[0].path`, 'op-plaintext-path',
    override({ plaintext: [{ path: 'spec/replicas', operator: 'replace', value: 3 }] }),
    override({ plaintext: [{ path: '/spec/replicas', operator: 'replace', value: 3 }] })),
  make(OP, 'op: fieldOverrider with both json and yaml', `${RULE}.fieldOverrider[0]`, 'op-field-both',
    override({ fieldOverrider: [{ fieldPath: '/data/config.yaml', json: [{ subPath: '/a', operator: 'replace', value: 1 }], yaml: [{ subPath: '/a', operator: 'replace', value: 1 }] }] }),
    override({ fieldOverrider: [{ fieldPath: '/data/config.yaml', yaml: [{ subPath: '/a', operator: 'replace', value: 1 }] }] })),
  make(OP, 'op: fieldOverrider with neither json nor yaml', `${RULE}.fieldOverrider[0]`, 'op-field-neither',
    override({ fieldOverrider: [{ fieldPath: '/data/config.json' }] }),
    override({ fieldOverrider: [{ fieldPath: '/data/config.json', json: [{ subPath: '/db/port', operator: 'replace', value: 3306 }] }] })),
  make(OP, 'op: fieldOverrider fieldPath that is not a JSON pointer', `${RULE}.fieldOverrider[0].fieldPath`, 'op-field-path',
    override({ fieldOverrider: [{ fieldPath: 'data/config.json', json: [{ subPath: '/db/port', operator: 'replace', value: 3306 }] }] }),
    override({ fieldOverrider: [{ fieldPath: '/data/config.json', json: [{ subPath: '/db/port', operator: 'replace', value: 3306 }] }] })),
  make(OP, 'op: json patch subPath that is not a JSON pointer', `${RULE}.fieldOverrider[0].json[0].subPath`, 'op-field-subpath',
    override({ fieldOverrider: [{ fieldPath: '/data/config.json', json: [{ subPath: 'db.port', operator: 'replace', value: 3306 }] }] }),
    override({ fieldOverrider: [{ fieldPath: '/data/config.json', json: [{ subPath: '/db/port', operator: 'replace', value: 3306 }] }] })),
  make(OP, 'op: json patch add without a value', `${RULE}.fieldOverrider[0].json[0].value`, 'op-field-add-no-value',
    override({ fieldOverrider: [{ fieldPath: '/data/config.json', json: [{ subPath: '/db/host', operator: 'add' }] }] }),
    override({ fieldOverrider: [{ fieldPath: '/data/config.json', json: [{ subPath: '/db/host', operator: 'add', value: 'db.local' }] }] })),
  make(OP, 'op: yaml patch remove with a value', `${RULE}.fieldOverrider[0].yaml[0].value`, 'op-field-remove-value',
    override({ fieldOverrider: [{ fieldPath: '/data/config.yaml', yaml: [{ subPath: '/db/host', operator: 'remove', value: 'db.local' }] }] }),
    override({ fieldOverrider: [{ fieldPath: '/data/config.yaml', yaml: [{ subPath: '/db/host', operator: 'remove' }] }] })),
  make(OP, 'op: labelsOverrider value that is not a label value', `${RULE}.labelsOverrider[0].value[env]`, 'op-labels-value',
    override({ labelsOverrider: [{ operator: 'add', value: { env: 'prod east' } }] }),
    override({ labelsOverrider: [{ operator: 'add', value: { env: 'prod-east' } }] })),
  make(OP, 'op: labelsOverrider key that is not a label key', `${RULE}.labelsOverrider[0].value[team/a/b]`, 'op-labels-key',
    override({ labelsOverrider: [{ operator: 'add', value: { 'team/a/b': 'x' } }] }),
    override({ labelsOverrider: [{ operator: 'add', value: { 'example.io/team': 'x' } }] })),
  make(OP, 'op: annotationsOverrider key that is not a qualified name', `${RULE}.annotationsOverrider[0].value[-owner]`, 'op-annotations-key',
    override({ annotationsOverrider: [{ operator: 'add', value: { '-owner': 'team a' } }] }),
    override({ annotationsOverrider: [{ operator: 'add', value: { owner: 'team a' } }] })),
  make(OP, 'op: rule targetCluster selecting on an unsupported field', 'spec.overrideRules[0].targetCluster.fieldSelector.matchExpressions[0].key', 'op-target-field',
    { resourceSelectors: selectors(), overrideRules: [{ targetCluster: { fieldSelector: { matchExpressions: [{ key: 'cluster', operator: 'In', values: ['member1'] }] } }, overriders: { plaintext: [{ path: '/spec/replicas', operator: 'replace', value: 1 }] } }] },
    { resourceSelectors: selectors(), overrideRules: [{ targetCluster: { fieldSelector: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['member1'] }] } }, overriders: { plaintext: [{ path: '/spec/replicas', operator: 'replace', value: 1 }] } }] }),

  // ---- ClusterOverridePolicy ----
  make(COP, 'cop: targetCluster together with overrideRules', 'spec.targetCluster', 'cop-target-and-rules',
    override({ plaintext: [{ path: '/spec/replicas', operator: 'replace', value: 1 }] }, { targetCluster: { clusterNames: ['member2'] } }),
    override({ plaintext: [{ path: '/spec/replicas', operator: 'replace', value: 1 }] })),
  make(COP, 'cop: image predicate path that is not a JSON pointer', `${RULE}.imageOverrider[0].predicate.path`, 'cop-image-predicate',
    override({ imageOverrider: [{ predicate: { path: 'image' }, component: 'Tag', operator: 'replace', value: '1.27' }] }),
    override({ imageOverrider: [{ predicate: { path: '/spec/template/spec/containers/0/image' }, component: 'Tag', operator: 'replace', value: '1.27' }] })),
  make(COP, 'cop: yaml patch replace without a value', `${RULE}.fieldOverrider[0].yaml[0].value`, 'cop-field-replace-no-value',
    override({ fieldOverrider: [{ fieldPath: '/data/app.yaml', yaml: [{ subPath: '/replicas', operator: 'replace' }] }] }),
    override({ fieldOverrider: [{ fieldPath: '/data/app.yaml', yaml: [{ subPath: '/replicas', operator: 'replace', value: 2 }] }] })),
  make(COP, 'cop: rule targetCluster labelSelector with an unknown operator', 'spec.overrideRules[0].targetCluster.labelSelector.matchExpressions[0].operator', 'cop-target-labels',
    { resourceSelectors: selectors(), overrideRules: [{ targetCluster: { labelSelector: { matchExpressions: [{ key: 'env', operator: 'Equals', values: ['prod'] }] } }, overriders: { plaintext: [{ path: '/spec/replicas', operator: 'replace', value: 1 }] } }] },
    { resourceSelectors: selectors(), overrideRules: [{ targetCluster: { labelSelector: { matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] } }, overriders: { plaintext: [{ path: '/spec/replicas', operator: 'replace', value: 1 }] } }] }),

  // ---- Cluster ----
  make(CLUSTER, 'cluster: name longer than 48 characters', 'metadata.name', 'member-cluster-with-a-rather-long-name-0123456789a',
    clusterSpec(), clusterSpec(), { valid: { name: 'member-cluster-with-a-shorter-name' } }),
  make(CLUSTER, 'cluster: apiEndpoint without a scheme', 'spec.apiEndpoint', 'cluster-endpoint-scheme',
    clusterSpec({ apiEndpoint: '10.10.10.10:6443' }), clusterSpec({ apiEndpoint: 'https://10.10.10.10:6443' })),
  make(CLUSTER, 'cluster: apiEndpoint with user information', 'spec.apiEndpoint', 'cluster-endpoint-user',
    clusterSpec({ apiEndpoint: 'https://admin:secret@10.10.10.10:6443' }), clusterSpec({ apiEndpoint: 'https://10.10.10.10:6443' })),
  make(CLUSTER, 'cluster: apiEndpoint with a query', 'spec.apiEndpoint', 'cluster-endpoint-query',
    clusterSpec({ apiEndpoint: 'https://member.example.io:6443?timeout=5s' }), clusterSpec({ apiEndpoint: 'https://member.example.io:6443' })),
  make(CLUSTER, 'cluster: secretRef with an empty namespace', 'spec.secretRef.namespace', 'cluster-secret-namespace',
    clusterSpec({ secretRef: { namespace: '', name: 'member-secret' } }), clusterSpec({ secretRef: { namespace: 'karmada-cluster', name: 'member-secret' } })),
  make(CLUSTER, 'cluster: impersonatorSecretRef with an empty name', 'spec.impersonatorSecretRef.name', 'cluster-impersonator-name',
    clusterSpec({ impersonatorSecretRef: { namespace: 'karmada-cluster', name: '' } }), clusterSpec({ impersonatorSecretRef: { namespace: 'karmada-cluster', name: 'member-impersonator' } })),
  make(CLUSTER, 'cluster: proxyURL with an ftp scheme', 'spec.proxyURL', 'cluster-proxy-scheme',
    clusterSpec({ proxyURL: 'ftp://proxy.example.io:2121' }), clusterSpec({ proxyURL: 'socks5://proxy.example.io:1080' })),
  make(CLUSTER, 'cluster: provider that is not a label value', 'spec.provider', 'cluster-provider',
    clusterSpec({ provider: 'huawei cloud' }), clusterSpec({ provider: 'huaweicloud' })),
  make(CLUSTER, 'cluster: zone and zones both set', 'spec.zones', 'cluster-zone-and-zones',
    clusterSpec({ zone: 'az-1', zones: ['az-1', 'az-2'] }), clusterSpec({ zones: ['az-1', 'az-2'] })),
  make(CLUSTER, 'cluster: a zone that is not a label value', 'spec.zones[1]', 'cluster-zones-value',
    clusterSpec({ zones: ['az-1', 'az 2'] }), clusterSpec({ zones: ['az-1', 'az-2'] })),
  make(CLUSTER, 'cluster: taint effect PreferNoSchedule', 'spec.taints[0].effect', 'cluster-taint-effect',
    clusterSpec({ taints: [{ key: 'dedicated', value: 'gpu', effect: 'PreferNoSchedule' }] }), clusterSpec({ taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] })),
  make(CLUSTER, 'cluster: taint key that is not a label key', 'spec.taints[0].key', 'cluster-taint-key',
    clusterSpec({ taints: [{ key: 'dedicated to', effect: 'NoSchedule' }] }), clusterSpec({ taints: [{ key: 'dedicated-to', effect: 'NoSchedule' }] })),
  make(CLUSTER, 'cluster: two taints with the same key and effect', 'spec.taints[1]', 'cluster-taint-duplicate',
    clusterSpec({ taints: [{ key: 'dedicated', value: 'a', effect: 'NoSchedule' }, { key: 'dedicated', value: 'b', effect: 'NoSchedule' }] }),
    clusterSpec({ taints: [{ key: 'dedicated', value: 'a', effect: 'NoSchedule' }, { key: 'dedicated', value: 'b', effect: 'NoExecute', timeAdded: '2026-01-01T00:00:00Z' }] })),
  make(CLUSTER, 'cluster: resource model grades that are not contiguous', 'spec.resourceModels[1].ranges[0].min', 'cluster-models-gap',
    clusterSpec({ resourceModels: [grade(0, ['0', '2'], ['0', '8Gi']), grade(1, ['3', MAX], ['8Gi', MAX])] }),
    clusterSpec({ resourceModels: [grade(0, ['0', '2'], ['0', '8Gi']), grade(1, ['2', MAX], ['8Gi', MAX])] })),
  make(CLUSTER, 'cluster: two resource models with the same grade', 'spec.resourceModels[1].grade', 'cluster-models-grade',
    clusterSpec({ resourceModels: [grade(1, ['0', '2'], ['0', '8Gi']), grade(1, ['2', MAX], ['8Gi', MAX])] }),
    clusterSpec({ resourceModels: [grade(1, ['0', '2'], ['0', '8Gi']), grade(2, ['2', MAX], ['8Gi', MAX])] })),
  make(CLUSTER, 'cluster: resource models listing resources in different orders', 'spec.resourceModels[1].ranges[0].name', 'cluster-models-order',
    clusterSpec({ resourceModels: [grade(0, ['0', '2'], ['0', '8Gi']), { grade: 1, ranges: [{ name: 'memory', min: '8Gi', max: MAX }, { name: 'cpu', min: '2', max: MAX }] }] }),
    clusterSpec({ resourceModels: [grade(0, ['0', '2'], ['0', '8Gi']), { grade: 1, ranges: [{ name: 'cpu', min: '2', max: MAX }, { name: 'memory', min: '8Gi', max: MAX }] }] })),
  make(CLUSTER, 'cluster: resource model range whose max is below its min', 'spec.resourceModels[1].ranges[0].max', 'cluster-models-max',
    clusterSpec({ resourceModels: [grade(0, ['0', '2'], ['0', '8Gi']), grade(1, ['2', '1'], ['8Gi', '16Gi']), grade(2, ['1', MAX], ['16Gi', MAX])] }),
    clusterSpec({ resourceModels: [grade(0, ['0', '2'], ['0', '8Gi']), grade(1, ['2', '4'], ['8Gi', '16Gi']), grade(2, ['4', MAX], ['16Gi', MAX])] })),

  // ---- ResourceBinding / ClusterResourceBinding ----
  make(RB, 'rb: resource with an empty name', 'spec.resource.name', 'rb-resource-name',
    bindingSpec({}, { name: '' }), bindingSpec()),
  make(RB, 'rb: the same cluster twice', 'spec.clusters[1].name', 'rb-cluster-duplicate',
    bindingSpec({ clusters: [{ name: 'member1', replicas: 1 }, { name: 'member1', replicas: 1 }] }), bindingSpec()),
  make(RB, 'rb: negative replicas for a cluster', 'spec.clusters[0].replicas', 'rb-cluster-replicas',
    bindingSpec({ clusters: [{ name: 'member1', replicas: -1 }, { name: 'member2', replicas: 3 }] }), bindingSpec()),
  make(RB, 'rb: negative replicas', 'spec.replicas', 'rb-replicas',
    bindingSpec({ replicas: -2 }), bindingSpec()),
  make(RB, 'rb: dependencies annotation that is not JSON', 'metadata.annotations[resourcebinding.karmada.io/dependencies]', 'rb-dependencies',
    bindingSpec(), bindingSpec(),
    { invalid: { annotations: { 'resourcebinding.karmada.io/dependencies': 'configmap/settings' } }, valid: { annotations: { 'resourcebinding.karmada.io/dependencies': '[{"apiVersion":"v1","kind":"ConfigMap","namespace":"default","name":"settings"}]' } } }),
  make(CRB, 'crb: resource with an empty kind', 'spec.resource.kind', 'crb-resource-kind',
    crbSpec({}, { kind: '' }), crbSpec()),
  make(CRB, 'crb: resource with an empty apiVersion', 'spec.resource.apiVersion', 'crb-resource-apiversion',
    crbSpec({}, { apiVersion: '' }), crbSpec()),
  make(CRB, 'crb: a target cluster without a name', 'spec.clusters[0].name', 'crb-cluster-name',
    crbSpec({ clusters: [{ name: '' }] }), crbSpec()),

  // ---- Work ----
  make(WORK, 'work: manifest without apiVersion', 'spec.workload.manifests[0].apiVersion', 'work-manifest-apiversion',
    workSpec({ kind: 'ConfigMap', metadata: { name: 'settings', namespace: NAMESPACE }, data: { mode: 'fast' } }), workSpec(CONFIGMAP)),
  make(WORK, 'work: manifest without kind', 'spec.workload.manifests[0].kind', 'work-manifest-kind',
    workSpec({ apiVersion: 'v1', metadata: { name: 'settings', namespace: NAMESPACE }, data: { mode: 'fast' } }), workSpec(CONFIGMAP)),
  make(WORK, 'work: manifest without metadata.name', 'spec.workload.manifests[0].metadata.name', 'work-manifest-name',
    workSpec({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: NAMESPACE }, data: { mode: 'fast' } }), workSpec(CONFIGMAP)),
];
