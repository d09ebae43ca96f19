import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../src/api/object.js';
import type { StatusCause } from '../../src/api/status.js';
import { DELETION_PROTECTED_LABEL, KARMADA_ADMISSION, deletionDenied } from '../../src/karmada/admission/index.js';
import type { KarmadaAdmissionPlugin } from '../../src/karmada/admission/index.js';
import { INVALID_CASES } from './invalid-objects.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX = '9223372036854775807';
const PP_ID = 'propagationpolicy.karmada.io/permanent-id';
const CPP_ID = 'clusterpropagationpolicy.karmada.io/permanent-id';

function plugin(groupKind: string): KarmadaAdmissionPlugin {
  const p = KARMADA_ADMISSION[groupKind];
  if (!p) throw new Error(`no admission for ${groupKind}`);
  return p;
}

const pp = plugin('policy.karmada.io/PropagationPolicy');
const cpp = plugin('policy.karmada.io/ClusterPropagationPolicy');
const op = plugin('policy.karmada.io/OverridePolicy');
const cop = plugin('policy.karmada.io/ClusterOverridePolicy');
const cluster = plugin('cluster.karmada.io/Cluster');
const rb = plugin('work.karmada.io/ResourceBinding');
const crb = plugin('work.karmada.io/ClusterResourceBinding');
const work = plugin('work.karmada.io/Work');

/** mutate then validate, as the server runs them. */
function admit(p: KarmadaAdmissionPlugin, object: KubeObject, namespace: string | undefined, old?: KubeObject): StatusCause[] {
  const request = { operation: old ? ('UPDATE' as const) : ('CREATE' as const), namespace, object, old };
  p.mutate?.(request);
  return p.validate?.(request) ?? [];
}

const spec = (o: KubeObject): Record<string, unknown> => o['spec'] as Record<string, unknown>;
const at = (value: unknown, ...path: (string | number)[]): unknown => {
  let current = value;
  for (const key of path) current = (current as Record<string | number, unknown> | undefined)?.[key];
  return current;
};
const fields = (causes: StatusCause[]): (string | undefined)[] => causes.map((c) => c.field);

const policy = (kind: string, s: Record<string, unknown>, metadata: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'policy.karmada.io/v1alpha1',
  kind,
  metadata: { name: 'nginx', ...(kind === 'PropagationPolicy' || kind === 'OverridePolicy' ? { namespace: 'default' } : {}), ...metadata },
  spec: s,
});
const deploymentSelector = () => [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'nginx' }];

t.test('every invalid object is refused naming its field; its valid twin is admitted', async (t) => {
  const names = new Set<string>();
  for (const c of INVALID_CASES) {
    t.notOk(names.has(c.name), `case names are unique: ${c.name}`);
    names.add(c.name);
    const p = plugin(`${c.group}/${c.kind}`);
    const invalid = structuredClone(c.invalid) as KubeObject;
    const causes = admit(p, invalid, c.namespace);
    t.ok(fields(causes).includes(c.field), `${c.name}: causes name ${c.field} (got ${JSON.stringify(causes)})`);
    for (const cause of causes) t.match(cause.message, /^(Required value|Invalid value: |Unsupported value: |Forbidden: |Duplicate value: |Too long: )/, `${c.name}: kube message shape`);
    const valid = structuredClone(c.valid) as KubeObject;
    t.same(admit(p, valid, c.namespace), [], `${c.name}: valid twin admitted`);
  }
});

t.test('the invalid-object table covers every kind', async (t) => {
  const count = (kind: string) => INVALID_CASES.filter((c) => c.kind === kind).length;
  t.ok(INVALID_CASES.length >= 48, `${INVALID_CASES.length} cases`);
  t.ok(count('PropagationPolicy') >= 12, 'PropagationPolicy');
  t.ok(count('ClusterPropagationPolicy') >= 4, 'ClusterPropagationPolicy');
  t.ok(count('OverridePolicy') >= 10, 'OverridePolicy');
  t.ok(count('ClusterOverridePolicy') >= 3, 'ClusterOverridePolicy');
  t.ok(count('Cluster') >= 8, 'Cluster');
  t.ok(count('ResourceBinding') + count('ClusterResourceBinding') >= 4, 'bindings');
  t.ok(count('Work') >= 3, 'Work');
  const objectNames = INVALID_CASES.map((c) => `${c.kind}/${String((c.invalid['metadata'] as Record<string, unknown>)['name'])}`);
  t.equal(new Set(objectNames).size, objectNames.length, 'distinct metadata.name per case');
  for (const c of INVALID_CASES) {
    t.equal(c.invalid['apiVersion'], `${c.group}/${c.version}`, `${c.name}: apiVersion`);
    t.equal(c.namespace !== undefined, ['PropagationPolicy', 'OverridePolicy', 'ResourceBinding', 'Work'].includes(c.kind), `${c.name}: namespace only for namespaced kinds`);
  }
});

t.test('propagation policies: permanent id and finalizer on CREATE only', async (t) => {
  for (const [p, kind, label, finalizer] of [
    [pp, 'PropagationPolicy', PP_ID, 'karmada.io/propagation-policy-controller'],
    [cpp, 'ClusterPropagationPolicy', CPP_ID, 'karmada.io/cluster-propagation-policy-controller'],
  ] as const) {
    const namespace = kind === 'PropagationPolicy' ? 'default' : undefined;
    const created = policy(kind, { resourceSelectors: deploymentSelector() }, { labels: { app: 'x' }, finalizers: ['example.io/keep'] });
    t.same(admit(p, created, namespace), [], `${kind}: admitted`);
    t.match(created.metadata.labels?.[label], UUID, `${kind}: permanent id`);
    t.equal(created.metadata.labels?.['app'], 'x', `${kind}: other labels kept`);
    t.same(created.metadata.finalizers, ['example.io/keep', finalizer], `${kind}: finalizer appended`);

    const again = structuredClone(created);
    admit(p, again, namespace, created);
    t.equal(again.metadata.labels?.[label], created.metadata.labels?.[label], `${kind}: UPDATE keeps the id`);
    t.same(again.metadata.finalizers, created.metadata.finalizers, `${kind}: UPDATE adds no finalizer twice`);

    const bare = policy(kind, { resourceSelectors: deploymentSelector() });
    delete bare.metadata.labels;
    p.mutate?.({ operation: 'UPDATE', namespace, object: bare, old: created });
    t.equal(bare.metadata.labels, undefined, `${kind}: UPDATE adds no id`);
    t.equal(bare.metadata.finalizers, undefined, `${kind}: UPDATE adds no finalizer`);

    const copied = policy(kind, { resourceSelectors: deploymentSelector() }, { labels: { [label]: 'copied-from-elsewhere' } });
    admit(p, copied, namespace);
    t.match(copied.metadata.labels?.[label], UUID, `${kind}: CREATE always mints a fresh id, as Karmada does`);
  }
});

t.test('propagation policies: the permanent id is required and immutable; schedulerName is immutable', async (t) => {
  const stored = policy('PropagationPolicy', { resourceSelectors: deploymentSelector(), schedulerName: 'default-scheduler' });
  admit(pp, stored, 'default');
  const id = stored.metadata.labels?.[PP_ID] as string;

  const changed = structuredClone(stored);
  (changed.metadata.labels as Record<string, string>)[PP_ID] = 'another-id';
  t.same(fields(admit(pp, changed, 'default', stored)), [`metadata.labels[${PP_ID}]`], 'changing the id is refused');

  const removed = structuredClone(stored);
  delete (removed.metadata.labels as Record<string, string>)[PP_ID];
  const removedCauses = admit(pp, removed, 'default', stored);
  t.same(fields(removedCauses), [`metadata.labels[${PP_ID}]`], 'removing the id is refused');
  t.equal(removedCauses[0]?.reason, 'FieldValueRequired');

  const same = structuredClone(stored);
  t.same(admit(pp, same, 'default', stored), [], 'an update keeping the id is admitted');
  t.equal(same.metadata.labels?.[PP_ID], id);

  const rescheduled = structuredClone(stored);
  spec(rescheduled)['schedulerName'] = 'my-scheduler';
  const causes = admit(pp, rescheduled, 'default', stored);
  t.same(fields(causes), ['spec.schedulerName'], 'schedulerName may not change');
  t.match(causes[0]?.message, /^Invalid value: "my-scheduler": field is immutable/);

  const defaulted = structuredClone(stored);
  delete spec(defaulted)['schedulerName'];
  t.same(admit(pp, defaulted, 'default', stored), [], 'an absent schedulerName is the default one');

  const cppStored = policy('ClusterPropagationPolicy', { resourceSelectors: deploymentSelector() });
  admit(cpp, cppStored, undefined);
  const cppChanged = structuredClone(cppStored);
  spec(cppChanged)['schedulerName'] = 'other';
  (cppChanged.metadata.labels as Record<string, string>)[CPP_ID] = 'x';
  t.same(fields(admit(cpp, cppChanged, undefined, cppStored)).sort(), [`metadata.labels[${CPP_ID}]`, 'spec.schedulerName'], 'the same for ClusterPropagationPolicy');
  const cppMissing = policy('ClusterPropagationPolicy', { resourceSelectors: deploymentSelector() });
  t.same(fields(cpp.validate?.({ operation: 'CREATE', namespace: undefined, object: cppMissing, old: undefined }) ?? []), [`metadata.labels[${CPP_ID}]`], 'validation alone requires the id');
});

t.test('propagation policies: namespace, spread, division, dependencies and grace-period defaults', async (t) => {
  const object = policy('PropagationPolicy', {
    resourceSelectors: [{ apiVersion: 'apps/v1', kind: 'Deployment' }, { apiVersion: 'v1', kind: 'Service', namespace: 'default', name: 'web' }],
    placement: {
      clusterAffinity: { clusterNames: ['member1'] },
      spreadConstraints: [{}, { spreadByLabel: 'topology/zone', minGroups: 0, maxGroups: 2 }, { spreadByField: 'region', minGroups: 2 }],
      replicaScheduling: {},
    },
    propagateDeps: true,
    failover: { application: { decisionConditions: { tolerationSeconds: 60 } } },
  });
  t.same(admit(pp, object, 'default'), [], 'admitted');
  const s = spec(object);
  t.same(at(s, 'resourceSelectors', 0, 'namespace'), 'default', 'empty selector namespace defaults to the request namespace');
  t.same(at(s, 'placement', 'spreadConstraints'), [
    { spreadByField: 'cluster', minGroups: 1 },
    { spreadByLabel: 'topology/zone', minGroups: 1, maxGroups: 2 },
    { spreadByField: 'region', minGroups: 2 },
  ], 'spread constraints: field cluster when neither set, minGroups 1 when 0 or absent');
  t.same(at(s, 'placement', 'replicaScheduling'), { replicaDivisionPreference: 'Weighted' }, 'a replicaScheduling block without type is Divided: Weighted, no weight list invented');
  t.equal(at(s, 'failover', 'application', 'gracePeriodSeconds'), 600, 'Gracefully (the CRD default) without a grace period gets 600');

  const division = (replicaScheduling: unknown) => {
    const o = policy('PropagationPolicy', { resourceSelectors: deploymentSelector(), placement: replicaScheduling === undefined ? {} : { replicaScheduling } });
    pp.mutate?.({ operation: 'CREATE', namespace: 'default', object: o, old: undefined });
    return at(spec(o), 'placement', 'replicaScheduling');
  };
  t.same(division({ replicaSchedulingType: 'Divided' }), { replicaSchedulingType: 'Divided', replicaDivisionPreference: 'Weighted' });
  t.same(division({ replicaSchedulingType: 'Divided', replicaDivisionPreference: 'Aggregated' }), { replicaSchedulingType: 'Divided', replicaDivisionPreference: 'Aggregated' }, 'an explicit preference is kept');
  t.same(division({ replicaSchedulingType: 'Duplicated' }), { replicaSchedulingType: 'Duplicated' }, 'Duplicated gets no preference');
  t.equal(division(undefined), undefined, 'no replicaScheduling block (Duplicated) stays absent');

  const grace = (application: Record<string, unknown>) => {
    const o = policy('PropagationPolicy', { resourceSelectors: deploymentSelector(), propagateDeps: true, failover: { application: { decisionConditions: {}, ...application } } });
    pp.mutate?.({ operation: 'UPDATE', namespace: 'default', object: o, old: o });
    return at(spec(o), 'failover', 'application', 'gracePeriodSeconds');
  };
  t.equal(grace({ purgeMode: 'Gracefully' }), 600);
  t.equal(grace({ purgeMode: 'Gracefully', gracePeriodSeconds: 30 }), 30, 'an explicit grace period is kept');
  t.equal(grace({ purgeMode: 'Directly' }), undefined, 'Directly gets none');
  t.equal(grace({ purgeMode: 'Never' }), undefined, 'Never gets none');

  const serviceImport = policy('ClusterPropagationPolicy', { resourceSelectors: [{ apiVersion: 'multicluster.x-k8s.io/v1alpha1', kind: 'ServiceImport', name: 'web' }] });
  admit(cpp, serviceImport, undefined);
  t.equal(spec(serviceImport)['propagateDeps'], true, 'a ServiceImport selector turns on propagateDeps');
  const otherImport = policy('ClusterPropagationPolicy', { resourceSelectors: [{ apiVersion: 'example.io/v1', kind: 'ServiceImport', name: 'web' }] });
  admit(cpp, otherImport, undefined);
  t.equal(spec(otherImport)['propagateDeps'], undefined, 'only the multicluster.x-k8s.io/v1alpha1 kind does');

  const clusterScoped = policy('ClusterPropagationPolicy', { resourceSelectors: [{ apiVersion: 'apps/v1', kind: 'Deployment' }], placement: { spreadConstraints: [{}] } });
  t.same(admit(cpp, clusterScoped, undefined), [], 'cluster-scoped policy admitted');
  t.equal(at(spec(clusterScoped), 'resourceSelectors', 0, 'namespace'), undefined, 'ClusterPropagationPolicy selectors keep an empty namespace (all namespaces)');
  t.same(at(spec(clusterScoped), 'placement', 'spreadConstraints'), [{ spreadByField: 'cluster', minGroups: 1 }], 'and get the spread defaults');
});

t.test('propagation policies: more rules', async (t) => {
  const none = policy('PropagationPolicy', { resourceSelectors: [] });
  t.same(fields(admit(pp, none, 'default')), ['spec.resourceSelectors'], 'at least one resource selector');
  const overflowWithoutAffinity = policy('PropagationPolicy', {
    resourceSelectors: deploymentSelector(),
    placement: { clusterAffinities: [{ affinityName: 'a', overflowAffinities: [{ affinityName: 'b', clusterNames: ['m2'] }] }], replicaScheduling: { replicaDivisionPreference: 'Weighted', weightPreference: { dynamicWeight: 'AvailableReplicas' } } },
  });
  t.same(fields(admit(pp, overflowWithoutAffinity, 'default')), ['spec.placement.clusterAffinities[0].overflowAffinities'], 'overflow needs an inline affinity (dynamic weight allows overflow)');
  const withoutGrace = policy('PropagationPolicy', { resourceSelectors: [{ ...deploymentSelector()[0], namespace: 'default' }], propagateDeps: true, failover: { application: { decisionConditions: {}, purgeMode: 'Gracefully' } } });
  t.same(fields(pp.validate?.({ operation: 'CREATE', namespace: 'default', object: { ...withoutGrace, metadata: { ...withoutGrace.metadata, labels: { [PP_ID]: 'x' } } }, old: undefined }) ?? []), ['spec.failover.application.gracePeriodSeconds'], 'Gracefully needs a grace period (when not defaulted)');
  const badEffect = policy('PropagationPolicy', { resourceSelectors: deploymentSelector(), placement: { clusterTolerations: [{ effect: 'NoSchedule' }, { key: 'a', operator: 'Exists' }] } });
  t.same(admit(pp, badEffect, 'default'), [], 'tolerations with empty key, operator or effect are fine (Karmada sample)');
});

t.test('override policies: namespace defaulting and rules', async (t) => {
  const object = policy('OverridePolicy', { resourceSelectors: [{ apiVersion: 'apps/v1', kind: 'Deployment' }], overrideRules: [{ overriders: { plaintext: [{ path: '/spec/replicas', operator: 'replace', value: 1 }] } }] });
  t.same(admit(op, object, 'default'), [], 'admitted');
  t.equal(at(spec(object), 'resourceSelectors', 0, 'namespace'), 'default', 'OverridePolicy selectors default to the policy namespace');
  const matchAll = policy('OverridePolicy', { overrideRules: [{ overriders: { labelsOverrider: [{ operator: 'add', value: { env: 'prod' } }] } }] });
  t.same(admit(op, matchAll, 'default'), [], 'no selectors (match all) is fine for override policies');
  t.equal(cop.mutate, undefined, 'ClusterOverridePolicy has no mutation');
  const clusterScoped = policy('ClusterOverridePolicy', { resourceSelectors: [{ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'anywhere' }], overriders: { plaintext: [{ path: '/spec/replicas', operator: 'replace', value: 1 }] }, targetCluster: { clusterNames: ['member1'] } });
  t.same(admit(cop, clusterScoped, undefined), [], 'legacy targetCluster + overriders without overrideRules is fine');
  const legacyBad = policy('ClusterOverridePolicy', { overriders: { plaintext: [{ path: 'spec', operator: 'remove' }] } });
  t.same(fields(admit(cop, legacyBad, undefined)), ['spec.overriders.plaintext[0].path'], 'legacy overriders are checked too');
  const bigValue = 'x'.repeat(256 * 1024);
  const tooBig = policy('OverridePolicy', { overrideRules: [{ overriders: { annotationsOverrider: [{ operator: 'add', value: { note: bigValue } }] } }] });
  const causes = admit(op, tooBig, 'default');
  t.same(fields(causes), ['spec.overrideRules[0].overriders.annotationsOverrider[0].value'], 'annotations are limited to 256 KiB');
  t.equal(causes[0]?.reason, 'FieldValueTooLong');
});

t.test('bindings: permanent id on CREATE when missing', async (t) => {
  for (const [p, label, namespace] of [[rb, 'resourcebinding.karmada.io/permanent-id', 'default'], [crb, 'clusterresourcebinding.karmada.io/permanent-id', undefined]] as const) {
    const binding: KubeObject = { apiVersion: 'work.karmada.io/v1alpha2', kind: 'X', metadata: { name: 'b' }, spec: { resource: { apiVersion: 'v1', kind: 'ConfigMap', name: 'c' } } };
    t.same(admit(p, binding, namespace), []);
    t.match(binding.metadata.labels?.[label], UUID, `${label} added`);
    const kept: KubeObject = { metadata: { name: 'b', labels: { [label]: 'given' } }, spec: {} };
    admit(p, kept, namespace);
    t.equal(kept.metadata.labels?.[label], 'given', 'an existing id is kept');
    const updated: KubeObject = { metadata: { name: 'b' }, spec: {} };
    admit(p, updated, namespace, kept);
    t.equal(updated.metadata.labels, undefined, 'no id added on UPDATE');
  }
});

t.test('work: permanent id and manifest pruning', async (t) => {
  const deployment = {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: {
      name: 'nginx', namespace: 'default', uid: 'u', resourceVersion: '12', generation: 3, creationTimestamp: '2026-01-01T00:00:00Z', selfLink: '/x',
      deletionTimestamp: '2026-01-02T00:00:00Z', deletionGracePeriodSeconds: 30, managedFields: [{ manager: 'kubectl' }], ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'o', uid: 'o' }], finalizers: ['f'],
      labels: { app: 'nginx' }, annotations: { 'deployment.kubernetes.io/revision': '3', 'deployment.kubernetes.io/revision-history': '1,2', team: 'a' },
    },
    spec: { replicas: 2 }, status: { replicas: 2 },
  };
  const job = {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'pi', namespace: 'default' },
    spec: {
      ttlSecondsAfterFinished: 100,
      selector: { matchLabels: { 'controller-uid': 'u', 'batch.kubernetes.io/controller-uid': 'u', keep: 'k' } },
      template: { metadata: { labels: { 'controller-uid': 'u', 'job-name': 'pi', 'batch.kubernetes.io/controller-uid': 'u', 'batch.kubernetes.io/job-name': 'pi', keep: 'k' } } },
    },
  };
  const manualJob = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'manual' }, spec: { manualSelector: true, selector: { matchLabels: { 'controller-uid': 'u' } }, template: { metadata: { labels: { 'controller-uid': 'u' } } } } };
  const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { clusterIP: '10.0.0.1', clusterIPs: ['10.0.0.1'], ports: [{ port: 80 }] } };
  const headless = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'headless' }, spec: { clusterIP: 'None', clusterIPs: ['None'] } };
  const serviceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot' }, secrets: [{ name: 'robot-token-abcde' }, { name: 'robot-token-fghij' }, { name: 'extra' }] };
  const tokenSecret = { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token', metadata: { name: 'robot-token', annotations: { 'kubernetes.io/service-account.uid': 'u', 'kubernetes.io/service-account.name': 'robot' } }, data: { token: 'eA==' } };
  const pvc = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', annotations: { 'volume.kubernetes.io/selected-node': 'node-1' } }, spec: {} };
  const object: KubeObject = {
    apiVersion: 'work.karmada.io/v1alpha1', kind: 'Work', metadata: { name: 'nginx-687f7fb96f', namespace: 'karmada-es-member1' },
    spec: { workload: { manifests: [deployment, job, manualJob, service, headless, serviceAccount, tokenSecret, pvc] } },
  };
  t.same(admit(work, object, 'karmada-es-member1'), [], 'admitted');
  const id = object.metadata.labels?.['work.karmada.io/permanent-id'];
  t.match(id, UUID, 'work permanent id');
  const manifests = at(spec(object), 'workload', 'manifests') as Record<string, unknown>[];
  const [d, j, mj, svc, hl, sa, secret, claim] = manifests;
  t.same(d, {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: {
      name: 'nginx', namespace: 'default',
      labels: { app: 'nginx', 'work.karmada.io/permanent-id': id },
      annotations: {
        team: 'a',
        'resourcetemplate.karmada.io/managed-annotations': 'resourcetemplate.karmada.io/managed-annotations,resourcetemplate.karmada.io/managed-labels,team',
        'resourcetemplate.karmada.io/managed-labels': 'app,work.karmada.io/permanent-id',
      },
    },
    spec: { replicas: 2 },
  }, 'Deployment: generated metadata, status and revision annotations pruned; id label and managed keys recorded');
  t.same(at(j, 'spec'), { selector: { matchLabels: { keep: 'k' } }, template: { metadata: { labels: { keep: 'k' } } } }, 'Job: generated selector labels and TTL pruned');
  t.same(at(mj, 'spec', 'selector', 'matchLabels'), { 'controller-uid': 'u' }, 'Job with manualSelector keeps its selector');
  t.same(at(svc, 'spec'), { ports: [{ port: 80 }] }, 'Service: allocated cluster IPs pruned');
  t.same(at(hl, 'spec'), { clusterIP: 'None', clusterIPs: ['None'] }, 'headless Service keeps clusterIP None');
  t.same(at(sa, 'secrets'), [{ name: 'extra' }], 'ServiceAccount: generated token secrets pruned');
  t.equal(at(secret, 'data'), undefined, 'service-account token Secret: data pruned');
  t.equal(at(secret, 'metadata', 'annotations', 'kubernetes.io/service-account.uid'), undefined, 'and the uid annotation');
  t.equal(at(secret, 'metadata', 'annotations', 'kubernetes.io/service-account.name'), 'robot', 'other annotations kept');
  t.equal(at(claim, 'metadata', 'annotations', 'volume.kubernetes.io/selected-node'), undefined, 'PVC: selected-node pruned');

  const before = structuredClone(object);
  admit(work, object, 'karmada-es-member1', before);
  t.same(object, before, 'mutation is idempotent (an UPDATE changes nothing more)');

  const given: KubeObject = { metadata: { name: 'w', labels: { 'work.karmada.io/permanent-id': 'given' } }, spec: { workload: { manifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }] } } };
  admit(work, given, 'default');
  t.equal(given.metadata.labels?.['work.karmada.io/permanent-id'], 'given', 'an existing id is kept');
  t.equal(at(spec(given), 'workload', 'manifests', 0, 'metadata', 'labels', 'work.karmada.io/permanent-id'), 'given', 'and copied to the manifest');

  const notObject: KubeObject = { metadata: { name: 'w' }, spec: { workload: { manifests: ['text'] } } };
  t.same(fields(admit(work, notObject, 'default')), ['spec.workload.manifests[0]'], 'a manifest must be an object');
});

t.test('cluster: default resource model, normalisation, taint timestamps', async (t) => {
  const created: KubeObject = { apiVersion: 'cluster.karmada.io/v1alpha1', kind: 'Cluster', metadata: { name: 'member1' }, spec: { syncMode: 'Push', taints: [{ key: 'a', effect: 'NoExecute' }, { key: 'b', effect: 'NoSchedule' }] } };
  t.same(admit(cluster, created, undefined), [], 'admitted');
  const models = spec(created)['resourceModels'] as Record<string, unknown>[];
  t.equal(models.length, 9, 'default model has grades 0..8');
  t.same(models.map((m) => m['grade']), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  t.same(models[0], { grade: 0, ranges: [{ name: 'cpu', min: '0', max: '1' }, { name: 'memory', min: '0', max: '4Gi' }] });
  t.same(models[2], { grade: 2, ranges: [{ name: 'cpu', min: '2', max: '4' }, { name: 'memory', min: '16Gi', max: '32Gi' }] });
  t.same(models[7], { grade: 7, ranges: [{ name: 'cpu', min: '64', max: '128' }, { name: 'memory', min: '512Gi', max: '1Ti' }] });
  t.same(models[8], { grade: 8, ranges: [{ name: 'cpu', min: '128', max: MAX }, { name: 'memory', min: '1Ti', max: MAX }] });
  t.match(at(spec(created), 'taints', 0, 'timeAdded'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'NoExecute taints get timeAdded');
  t.equal(at(spec(created), 'taints', 1, 'timeAdded'), undefined, 'other taints do not');

  const updated: KubeObject = { metadata: { name: 'member1' }, spec: { syncMode: 'Pull' } };
  t.same(admit(cluster, updated, undefined, created), []);
  t.equal(spec(updated)['resourceModels'], undefined, 'no default model on UPDATE');

  const custom: KubeObject = {
    metadata: { name: 'member2' },
    spec: { syncMode: 'Push', resourceModels: [{ grade: 1, ranges: [{ name: 'cpu', min: '2', max: '8' }] }, { grade: 0, ranges: [{ name: 'cpu', min: '1', max: '2' }] }] },
  };
  t.same(admit(cluster, custom, undefined), [], 'admitted');
  t.same(spec(custom)['resourceModels'], [{ grade: 0, ranges: [{ name: 'cpu', min: '0', max: '2' }] }, { grade: 1, ranges: [{ name: 'cpu', min: '2', max: MAX }] }], 'sorted by grade, first min 0, last max MaxInt64');

  const zone: KubeObject = { metadata: { name: 'member3' }, spec: { syncMode: 'Push', zone: 'az-1' } };
  t.same(admit(cluster, zone, undefined), [], 'the deprecated zone alone is fine');
  t.equal(spec(zone)['zone'], 'az-1', 'and is kept as written');

  const endpoints = ['https://member.example.io', 'https://10.0.0.1:6443', 'https://[::1]:6443', 'http://member/api', 'https://member.example.io/?'];
  for (const apiEndpoint of endpoints) {
    t.same(admit(cluster, { metadata: { name: 'ok' }, spec: { syncMode: 'Push', apiEndpoint } }, undefined), [], `${apiEndpoint} accepted`);
  }
  for (const apiEndpoint of ['member.example.io', 'member.example.io:6443', ':6443', 'https://member#frag', 'https://member:port', 'https://[::1']) {
    t.same(fields(admit(cluster, { metadata: { name: 'bad' }, spec: { syncMode: 'Push', apiEndpoint } }, undefined)), ['spec.apiEndpoint'], `${apiEndpoint} refused`);
  }
  t.same(fields(admit(cluster, { metadata: { name: 'Bad_Name' }, spec: { syncMode: 'Push' } }, undefined)), ['metadata.name'], 'name must be a DNS label');
  t.same(fields(admit(cluster, { metadata: { name: 'sync' }, spec: { syncMode: '' } }, undefined)), ['spec.syncMode'], 'syncMode is required');
  t.same(fields(admit(cluster, { metadata: { name: 'sync' }, spec: { syncMode: 'Poll' } }, undefined)), ['spec.syncMode'], 'syncMode is Push or Pull');
});

t.test('deletionDenied', async (t) => {
  t.equal(DELETION_PROTECTED_LABEL, 'resourcetemplate.karmada.io/deletion-protected');
  const message = deletionDenied({ metadata: { name: 'x', labels: { [DELETION_PROTECTED_LABEL]: 'Always' } } });
  t.match(message, /protected/);
  t.match(message, DELETION_PROTECTED_LABEL, 'names the label to remove');
  t.equal(deletionDenied({ metadata: { name: 'x', labels: { [DELETION_PROTECTED_LABEL]: 'Never' } } }), undefined, 'other values do not protect');
  t.equal(deletionDenied({ metadata: { name: 'x', labels: { [DELETION_PROTECTED_LABEL]: 'always' } } }), undefined, 'the value is case-sensitive');
  t.equal(deletionDenied({ metadata: { name: 'x' } }), undefined, 'no labels, no protection');
});

t.test('odd shapes never throw', async (t) => {
  const odd: unknown[] = [undefined, null, 'x', 5, [], {}, { resourceSelectors: 'x', placement: 5, overrideRules: {}, workload: [], resource: 'r', clusters: [null, 3], taints: {}, resourceModels: [null, { ranges: 'x' }] },
    { placement: { clusterAffinities: [null, { overflowAffinities: 'x' }], spreadConstraints: [1], clusterTolerations: [[]], replicaScheduling: 'x' }, failover: { application: 'x' }, overrideRules: [{ overriders: { fieldOverrider: [{ json: 'x' }] } }], workload: { manifests: 'x' } }];
  for (const [groupKind, p] of Object.entries(KARMADA_ADMISSION)) {
    for (const s of odd) {
      for (const old of [undefined, { metadata: {} }]) {
        const object = { metadata: { name: 'odd', labels: 'x' as unknown as Record<string, string> }, spec: structuredClone(s) } as KubeObject;
        t.doesNotThrow(() => admit(p, object, 'default', old), `${groupKind} with spec ${JSON.stringify(s)}`);
      }
    }
  }
});

const SAMPLES = fileURLToPath(new URL('../../conformance/fixtures/karmada-samples/', import.meta.url));
t.test("Karmada's sample manifests are admitted", async (t) => {
  let seen = 0;
  for (const dir of ['samples/nginx', 'samples/guestbook', 'artifacts/example']) {
    for (const file of readdirSync(`${SAMPLES}${dir}`).filter((f) => f.endsWith('.yaml'))) {
      for (const doc of parseAllDocuments(readFileSync(`${SAMPLES}${dir}/${file}`, 'utf8'))) {
        const object = doc.toJS() as KubeObject | null;
        if (!object || typeof object.apiVersion !== 'string') continue;
        // v1alpha1 bindings reach admission converted to v1alpha2; this test feeds storage versions only.
        if (object.apiVersion === 'work.karmada.io/v1alpha1' && object.kind !== 'Work') continue;
        const p = KARMADA_ADMISSION[`${object.apiVersion.split('/')[0] ?? ''}/${String(object.kind)}`];
        if (!p) continue;
        const namespaced = ['PropagationPolicy', 'OverridePolicy', 'ResourceBinding', 'Work'].includes(String(object.kind));
        t.same(admit(p, object, namespaced ? (object.metadata.namespace ?? 'default') : undefined), [], `${dir}/${file}: ${String(object.kind)}/${String(object.metadata.name)}`);
        seen++;
      }
    }
  }
  t.ok(seen >= 15, `${seen} Karmada objects checked`);
});
