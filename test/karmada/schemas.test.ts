import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../src/api/object.js';
import { applyDefaults } from '../../src/openapi/defaulting.js';
import { directRefs, loadSchemas, openApiDirectory, schemaFor } from '../../src/openapi/schemas.js';
import type { SchemaObject } from '../../src/openapi/schemas.js';
import { validatorFor } from '../../src/openapi/validator.js';
import { bindingFromV1alpha1 } from '../../src/karmada/binding-conversion.js';

/** The schema files of Karmada's API and the top-level kinds each must define (with their List kinds). */
const KARMADA_FILES: Record<string, { group: string; version: string; prefix: string; kinds: string[] }> = {
  'cluster.karmada.io-v1alpha1.yaml': { group: 'cluster.karmada.io', version: 'v1alpha1', prefix: 'com.github.karmada-io.karmada.pkg.apis.cluster.v1alpha1.', kinds: ['Cluster'] },
  'policy.karmada.io-v1alpha1.yaml': { group: 'policy.karmada.io', version: 'v1alpha1', prefix: 'io.karmada.policy.v1alpha1.', kinds: ['PropagationPolicy', 'ClusterPropagationPolicy', 'OverridePolicy', 'ClusterOverridePolicy'] },
  'work.karmada.io-v1alpha2.yaml': { group: 'work.karmada.io', version: 'v1alpha2', prefix: 'io.karmada.work.v1alpha2.', kinds: ['ResourceBinding', 'ClusterResourceBinding'] },
  'work.karmada.io-v1alpha1.yaml': { group: 'work.karmada.io', version: 'v1alpha1', prefix: 'io.karmada.work.v1alpha1.', kinds: ['Work', 'ResourceBinding', 'ClusterResourceBinding'] },
};

const CLUSTER = 'com.github.karmada-io.karmada.pkg.apis.cluster.v1alpha1.Cluster';
const PP = 'io.karmada.policy.v1alpha1.PropagationPolicy';
const CPP = 'io.karmada.policy.v1alpha1.ClusterPropagationPolicy';
const OP = 'io.karmada.policy.v1alpha1.OverridePolicy';
const RB = 'io.karmada.work.v1alpha2.ResourceBinding';
const RB_V1ALPHA1 = 'io.karmada.work.v1alpha1.ResourceBinding';
const WORK = 'io.karmada.work.v1alpha1.Work';

const SAMPLES = fileURLToPath(new URL('../../conformance/fixtures/karmada-samples/', import.meta.url));

function fileSchemas(file: string): Record<string, SchemaObject> {
  const document = parseYaml(readFileSync(`${openApiDirectory()}${file}`, 'utf8')) as { components: { schemas: Record<string, SchemaObject> } };
  return document.components.schemas;
}

/** Every `$ref` string anywhere inside a value. */
function allRefs(value: unknown, into: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) allRefs(item, into);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') into.push(child);
      else allRefs(child, into);
    }
  }
  return into;
}

/** Every *.yaml below a folder, recursively, sorted. */
function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}${entry.name}`;
    if (entry.isDirectory()) out.push(...yamlFiles(`${path}/`));
    else if (entry.name.endsWith('.yaml')) out.push(path);
  }
  return out.sort();
}

/** The component carrying this apiVersion/kind as its x-kubernetes-group-version-kind. */
function schemaNameFor(apiVersion: string, kind: string): string | undefined {
  const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
  for (const [name, schema] of loadSchemas()) {
    if (schema['x-kubernetes-group-version-kind']?.some((gvk) => gvk.group === group && gvk.version === version && gvk.kind === kind)) return name;
  }
  return undefined;
}

const errorsOf = (ref: string, object: unknown) => validatorFor(ref, { reportUnknown: true })(object).errors;
const summary = (ref: string, object: unknown) => errorsOf(ref, object).map((e) => `${e.kind} ${e.path}`).sort();

t.test('schema files load and are closed over their references', async (t) => {
  const schemas = loadSchemas(); // throws on a component defined in two files
  for (const [file, info] of Object.entries(KARMADA_FILES)) {
    const own = fileSchemas(file);
    for (const name of Object.keys(own)) {
      t.ok(name.startsWith(info.prefix), `${file}: ${name} uses the file's prefix`);
      t.equal(schemas.get(name), schemaFor(name), `${name} loaded`);
    }
    const missing = allRefs(own).filter((ref) => !ref.startsWith('#/components/schemas/') || !schemas.has(ref.slice('#/components/schemas/'.length)));
    t.same(missing, [], `${file}: every $ref resolves to a loaded schema`);

    for (const kind of info.kinds) {
      const schema = schemas.get(`${info.prefix}${kind}`);
      t.same(schema?.['x-kubernetes-group-version-kind'], [{ group: info.group, kind, version: info.version }], `${kind} ${info.version} GVK`);
      t.same(Object.keys(schema?.properties ?? {}).filter((p) => ['apiVersion', 'kind', 'metadata'].includes(p)).sort(), ['apiVersion', 'kind', 'metadata'], `${kind}: apiVersion, kind, metadata`);
      t.ok(schema?.properties?.['spec'], `${kind}: spec`);
      t.same(schema?.required, ['spec'], `${kind}: spec required`);
      const list = schemas.get(`${info.prefix}${kind}List`);
      t.same(list?.['x-kubernetes-group-version-kind'], [{ group: info.group, kind: `${kind}List`, version: info.version }], `${kind}List GVK`);
      t.same(list?.required, ['items']);
      t.same(directRefs(list?.properties?.['items']), new Set([`${info.prefix}${kind}`]), `${kind}List items`);
    }
  }
  // placement and failover types are defined once, in the policy file, and shared by the bindings
  t.ok(directRefs(schemaFor('io.karmada.work.v1alpha2.ResourceBindingSpec')).has('io.karmada.policy.v1alpha1.Placement'));
  t.ok(directRefs(schemaFor('io.karmada.work.v1alpha2.ResourceBindingSpec')).has('io.karmada.policy.v1alpha1.FailoverBehavior'));
  t.notOk(schemaFor('io.karmada.work.v1alpha2.Placement'), 'no second Placement');
  // status: Cluster, bindings and Work have one; policies do not
  for (const name of [CLUSTER, RB, RB_V1ALPHA1, WORK, 'io.karmada.work.v1alpha2.ClusterResourceBinding']) t.ok(schemaFor(name)?.properties?.['status'], `${name} has status`);
  for (const name of [PP, CPP, OP, 'io.karmada.policy.v1alpha1.ClusterOverridePolicy']) t.notOk(schemaFor(name)?.properties?.['status'], `${name} has no status`);
  // no inline credentials on a Cluster
  t.same(Object.keys(schemaFor('com.github.karmada-io.karmada.pkg.apis.cluster.v1alpha1.ClusterSpec')?.properties ?? {}).filter((p) => /token|ca(Bundle|Data)|cert|key|password/i.test(p)), []);
});

t.test('every Karmada sample manifest validates cleanly', async (t) => {
  let checked = 0;
  const kinds = new Set<string>();
  for (const file of yamlFiles(SAMPLES)) {
    for (const document of parseAllDocuments(readFileSync(file, 'utf8'))) {
      const object = document.toJS() as KubeObject | null;
      if (!object || typeof object.apiVersion !== 'string' || typeof object.kind !== 'string') continue;
      const group = object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] ?? '' : '';
      if (!group.endsWith('karmada.io')) continue;
      const name = schemaNameFor(object.apiVersion, object.kind);
      const where = `${file.slice(SAMPLES.length)} ${object.kind}/${object.metadata?.name ?? ''}`;
      t.ok(name, `${where}: schema for ${object.apiVersion} ${object.kind}`);
      if (!name) continue;
      t.same(errorsOf(name, object), [], `${where}: no errors against ${name}`);
      // defaulting must not break it either
      const defaulted = structuredClone(object);
      applyDefaults(defaulted, name);
      t.same(errorsOf(name, defaulted), [], `${where}: no errors after defaulting`);
      checked++;
      kinds.add(`${object.apiVersion} ${object.kind}`);
      if (name === RB_V1ALPHA1) t.same(errorsOf(RB, bindingFromV1alpha1(object, undefined)), [], `${where}: stored as v1alpha2, still valid`);
    }
  }
  t.ok(checked >= 15, `${checked} Karmada documents checked`);
  t.same([...kinds].sort(), [
    'cluster.karmada.io/v1alpha1 Cluster',
    'policy.karmada.io/v1alpha1 ClusterOverridePolicy',
    'policy.karmada.io/v1alpha1 ClusterPropagationPolicy',
    'policy.karmada.io/v1alpha1 OverridePolicy',
    'policy.karmada.io/v1alpha1 PropagationPolicy',
    'work.karmada.io/v1alpha1 ResourceBinding',
  ]);
});

t.test('CRD defaults', async (t) => {
  const minimal = (): KubeObject => ({
    apiVersion: 'policy.karmada.io/v1alpha1',
    kind: 'PropagationPolicy',
    metadata: { name: 'nginx', namespace: 'default' },
    spec: { resourceSelectors: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'nginx' }], placement: { clusterAffinity: { clusterNames: ['member1'] } } },
  });

  const pp = minimal();
  applyDefaults(pp, PP);
  t.same(pp['spec'], {
    resourceSelectors: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'nginx' }],
    placement: { clusterAffinity: { clusterNames: ['member1'] } },
    conflictResolution: 'Abort',
    preemption: 'Never',
    priority: 0,
    schedulerName: 'default-scheduler',
  }, 'priority 0, preemption Never, schedulerName default-scheduler, conflictResolution Abort; no replicaScheduling invented');

  const explicit = minimal();
  Object.assign(explicit['spec'] as object, { priority: 7, preemption: 'Always', schedulerName: 'default', conflictResolution: 'Overwrite' });
  applyDefaults(explicit, PP);
  t.match(explicit['spec'], { priority: 7, preemption: 'Always', schedulerName: 'default', conflictResolution: 'Overwrite' }, 'given values win');

  const divided = minimal();
  (divided['spec'] as { placement: Record<string, unknown> }).placement['replicaScheduling'] = {};
  applyDefaults(divided, PP);
  t.same((divided['spec'] as { placement: Record<string, unknown> }).placement['replicaScheduling'], { replicaSchedulingType: 'Divided' }, 'an empty replicaScheduling becomes Divided');

  const failover = minimal();
  (failover['spec'] as Record<string, unknown>)['failover'] = { application: { decisionConditions: {} }, cluster: {} };
  applyDefaults(failover, PP);
  t.same((failover['spec'] as Record<string, unknown>)['failover'], { application: { decisionConditions: { tolerationSeconds: 300 }, purgeMode: 'Gracefully' }, cluster: { purgeMode: 'Gracefully' } });

  const cpp: KubeObject = { ...minimal(), kind: 'ClusterPropagationPolicy', metadata: { name: 'cpp' } };
  applyDefaults(cpp, CPP);
  t.match(cpp['spec'], { priority: 0, preemption: 'Never', schedulerName: 'default-scheduler', conflictResolution: 'Abort' }, 'ClusterPropagationPolicy has the same defaults');

  const rb: KubeObject = {
    apiVersion: 'work.karmada.io/v1alpha2', kind: 'ResourceBinding', metadata: { name: 'nginx-deployment', namespace: 'default' },
    spec: { resource: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'nginx', namespace: 'default' }, schedulePriority: {}, placement: { replicaScheduling: {} } },
  };
  applyDefaults(rb, RB);
  t.match(rb['spec'], { conflictResolution: 'Abort', schedulePriority: { priority: 0 }, placement: { replicaScheduling: { replicaSchedulingType: 'Divided' } } }, 'binding defaults, placement shared with the policies');
  t.notOk('schedulerName' in (rb['spec'] as object), 'bindings have no schedulerName default');

  const cluster: KubeObject = { apiVersion: 'cluster.karmada.io/v1alpha1', kind: 'Cluster', metadata: { name: 'member1' }, spec: { syncMode: 'Push' } };
  applyDefaults(cluster, CLUSTER);
  t.same(cluster['spec'], { syncMode: 'Push' }, 'Cluster declares no defaults');
});

t.test('invalid objects produce errors at kube field paths', async (t) => {
  const cluster = { apiVersion: 'cluster.karmada.io/v1alpha1', kind: 'Cluster', metadata: { name: 'member1' }, spec: { syncMode: 'Sideways', apiEndpoint: 'https://10.0.0.1:6443', secretRef: { namespace: 'karmada-cluster' } } };
  const clusterErrors = errorsOf(CLUSTER, cluster);
  t.same(clusterErrors.map((e) => `${e.kind} ${e.path}`).sort(), ['enum spec.syncMode', 'required spec.secretRef.name']);
  t.equal(clusterErrors.find((e) => e.kind === 'enum')?.message, 'Unsupported value: "Sideways": supported values: "Push", "Pull"');
  t.same(summary(CLUSTER, { apiVersion: 'cluster.karmada.io/v1alpha1', kind: 'Cluster', metadata: { name: 'm' }, spec: {} }), ['required spec.syncMode']);
  t.same(summary(CLUSTER, { apiVersion: 'cluster.karmada.io/v1alpha1', kind: 'Cluster', metadata: { name: 'm' } }), ['required spec']);
  t.same(summary(CLUSTER, { apiVersion: 'cluster.karmada.io/v1alpha1', kind: 'Cluster', metadata: { name: 'm' }, spec: { syncMode: 'Pull', token: 'abc', insecureSkipTLSVerification: 'yes' } }), ['type spec.insecureSkipTLSVerification', 'unknown spec.token']);

  const pp = (spec: Record<string, unknown>) => ({ apiVersion: 'policy.karmada.io/v1alpha1', kind: 'PropagationPolicy', metadata: { name: 'p', namespace: 'default' }, spec });
  t.same(summary(PP, pp({ placement: { clusterAffinity: { clusterNames: ['member1'] } } })), ['required spec.resourceSelectors']);
  t.same(summary(PP, pp({ resourceSelectors: [{ kind: 'Deployment' }] })), ['required spec.resourceSelectors[0].apiVersion']);

  const weighted = pp({
    resourceSelectors: [{ apiVersion: 'apps/v1', kind: 'Deployment' }],
    placement: { replicaScheduling: { replicaSchedulingType: 'Divided', replicaDivisionPreference: 'Weighted', weightPreference: { staticWeightList: [{ targetCluster: { clusterNames: ['member1'] }, weight: '1' }, { targetCluster: { clusterNames: ['member2'] } }] } } },
  });
  const weightErrors = errorsOf(PP, weighted);
  t.same(weightErrors.map((e) => `${e.kind} ${e.path}`).sort(), [
    'required spec.placement.replicaScheduling.weightPreference.staticWeightList[1].weight',
    'type spec.placement.replicaScheduling.weightPreference.staticWeightList[0].weight',
  ]);
  t.equal(weightErrors.find((e) => e.kind === 'type')?.message, 'Invalid value: "string": spec.placement.replicaScheduling.weightPreference.staticWeightList[0].weight in body must be of type integer: "string"');

  t.same(summary(PP, pp({
    resourceSelectors: [{ apiVersion: 'apps/v1', kind: 'Deployment', labelSelector: { matchLabels: { app: 1 } } }],
    placement: { clusterAffinities: [{ clusterNames: ['a'] }], spreadConstraints: [{ spreadByField: 'planet' }], clusterTolerations: [{ operator: 'Sometimes' }], replicaScheduling: { replicaSchedulingType: 'Split' } },
    preemption: 'Sometimes', priority: 'high', conflictResolution: 'abort', activationPreference: 'Eager',
    failover: { application: { purgeMode: 'Now' }, cluster: { purgeMode: 'Never' } },
    schedulePriority: { priorityClassName: 'high', priorityClassSource: 'PodPriorityClass' },
    placment: {},
  })), [
    'enum spec.activationPreference',
    'enum spec.conflictResolution',
    'enum spec.failover.application.purgeMode',
    'enum spec.failover.cluster.purgeMode',
    'enum spec.placement.clusterTolerations[0].operator',
    'enum spec.placement.replicaScheduling.replicaSchedulingType',
    'enum spec.placement.spreadConstraints[0].spreadByField',
    'enum spec.preemption',
    'enum spec.schedulePriority.priorityClassSource',
    'required spec.failover.application.decisionConditions',
    'required spec.placement.clusterAffinities[0].affinityName',
    'type spec.priority',
    'type spec.resourceSelectors[0].labelSelector.matchLabels[app]',
    'unknown spec.placment',
  ]);

  const op = (overriders: Record<string, unknown>) => ({
    apiVersion: 'policy.karmada.io/v1alpha1', kind: 'OverridePolicy', metadata: { name: 'o', namespace: 'default' },
    spec: { resourceSelectors: [{ apiVersion: 'apps/v1', kind: 'Deployment' }], overrideRules: [{ targetCluster: { clusterNames: ['member1'] }, overriders }] },
  });
  // free-form values take any JSON and are not checked for unknown fields
  t.same(errorsOf(OP, op({
    plaintext: [{ path: '/spec/replicas', operator: 'replace', value: 3 }, { path: '/metadata/annotations', operator: 'add', value: { any: { nested: ['thing'] } } }, { path: '/x', operator: 'remove' }],
    fieldOverrider: [{ fieldPath: '/data/config.yaml', yaml: [{ subPath: '/a/b', operator: 'replace', value: ['x', 1, null, true] }], json: [{ subPath: '/c', operator: 'add', value: 'text' }] }],
  })), []);
  t.same(summary(OP, op({
    plaintext: [{ path: '/spec/replicas', value: 3 }],
    imageOverrider: [{ component: 'Digest', operator: 'replace', predicate: {} }],
    commandOverrider: [{ containerName: 'c', operator: 'replace', value: 'ls' }],
    labelsOverrider: [{ operator: 'add' }],
    fieldOverrider: [{ json: [{ operator: 'add', value: 1 }] }],
  })), [
    'enum spec.overrideRules[0].overriders.commandOverrider[0].operator',
    'enum spec.overrideRules[0].overriders.imageOverrider[0].component',
    'required spec.overrideRules[0].overriders.fieldOverrider[0].fieldPath',
    'required spec.overrideRules[0].overriders.fieldOverrider[0].json[0].subPath',
    'required spec.overrideRules[0].overriders.imageOverrider[0].predicate.path',
    'required spec.overrideRules[0].overriders.labelsOverrider[0].value',
    'required spec.overrideRules[0].overriders.plaintext[0].operator',
    'type spec.overrideRules[0].overriders.commandOverrider[0].value',
  ]);
  t.same(summary(OP, { apiVersion: 'policy.karmada.io/v1alpha1', kind: 'OverridePolicy', metadata: { name: 'o' }, spec: { overrideRules: [{ targetCluster: {} }] } }), ['required spec.overrideRules[0].overriders']);

  const binding = {
    apiVersion: 'work.karmada.io/v1alpha2', kind: 'ResourceBinding', metadata: { name: 'b', namespace: 'default' },
    spec: {
      resource: { apiVersion: 'apps/v1', kind: 'Deployment' },
      replicas: '3',
      clusters: [{ replicas: 1 }],
      replicaRequirements: { resourceRequest: { cpu: true, memory: '64Mi' } },
      gracefulEvictionTasks: [{ fromCluster: 'member1', reason: 'X', purgeMode: 'Later' }],
    },
    status: { aggregatedStatus: [{ clusterName: 'member1', health: 'Fine', status: { anything: { goes: 1 } } }], conditions: [{ type: 'Scheduled', status: 'True' }] },
  };
  t.same(summary(RB, binding), [
    'enum spec.gracefulEvictionTasks[0].purgeMode',
    'enum status.aggregatedStatus[0].health',
    'required spec.clusters[0].name',
    'required spec.gracefulEvictionTasks[0].producer',
    'required spec.resource.name',
    'required status.conditions[0].lastTransitionTime',
    'required status.conditions[0].message',
    'required status.conditions[0].reason',
    'type spec.replicaRequirements.resourceRequest[cpu]',
    'type spec.replicas',
  ]);
  // v1alpha2-only fields are unknown to v1alpha1
  t.same(summary(RB_V1ALPHA1, { ...binding, apiVersion: 'work.karmada.io/v1alpha1', spec: { resource: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'n', uid: 'u' }, replicas: 3 }, status: {} }), ['unknown spec.replicas', 'unknown spec.resource.uid']);

  const work = {
    apiVersion: 'work.karmada.io/v1alpha1', kind: 'Work', metadata: { name: 'nginx-687f7fb96f', namespace: 'karmada-es-member1' },
    spec: { workload: { manifests: [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'nginx' }, spec: { replicas: 1, anything: true } }, 'not-an-object'] }, suspendDispatching: 'no' },
    status: { manifestStatuses: [{ identifier: { ordinal: 0, version: 'v1', kind: 'Deployment', resource: 'deployments' }, status: { replicas: 1 }, health: 'Healthy' }] },
  };
  t.same(summary(WORK, work), ['required status.manifestStatuses[0].identifier.name', 'type spec.suspendDispatching', 'type spec.workload.manifests[1]']);
});
