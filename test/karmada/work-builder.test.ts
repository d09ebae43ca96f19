import t from 'tap';
import type { KubeObject } from '../../src/api/object.js';
import { formatImage, parseImage } from '../../src/karmada/image-reference.js';
import { applyOverrides, OverrideError } from '../../src/karmada/overrides.js';
import { buildNamespaceWork, buildWork, reviseReplicas, workName } from '../../src/karmada/work-builder.js';
import type { ClusterObject } from '../../src/scheduler/types.js';

/**
 * Work construction and overrides (karmada-api.md §3.1, §4.3, §4.5) as tables: Karmada's work names,
 * replica revision, every overrider and the order policies apply in, and what a Work carries.
 */
const cluster = (name: string, labels: Record<string, string> = {}): ClusterObject => ({ metadata: { name, labels } }) as ClusterObject;
const deployment = (): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'nginx', namespace: 'default', uid: 'u-1', generation: 3, resourceVersion: '42', labels: { app: 'nginx', bar: 'x' }, annotations: { emma: 'e', bom: 'b' }, managedFields: [{ manager: 'kubectl' }] },
  spec: { replicas: 2, template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', command: ['run'] }, { name: 'side', image: 'docker.io/library/busybox' }] } } },
  status: { replicas: 2 },
});
const op = (name: string, rules: unknown[], selectors: unknown[] = [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'nginx' }], namespace = 'default'): KubeObject => ({
  apiVersion: 'policy.karmada.io/v1alpha1', kind: 'OverridePolicy', metadata: { name, namespace }, spec: { resourceSelectors: selectors, overrideRules: rules },
});
const containers = (o: KubeObject) => ((o['spec'] as { template: { spec: { containers: { name: string; image: string; command?: string[]; args?: string[] }[] } } }).template.spec.containers);

t.test("workName: Karmada's verified examples", async (t) => {
  t.equal(workName('Deployment', 'nginx', 'default'), 'nginx-687f7fb96f');
  t.equal(workName('Guestbook', 'guestbook-sample', 'default'), 'guestbook-sample-6849fdbd59');
  t.equal(workName('Namespace', 'foo'), 'foo-5dbdc7b59c');
  t.equal(workName('Deployment', 'Web', 'default'), workName('Deployment', 'web', 'default'), 'lower-cased');
});

t.test('image references', async (t) => {
  const cases: [string, ReturnType<typeof parseImage>][] = [
    ['nginx', { registry: '', repository: 'nginx', tag: '', digest: '' }],
    ['nginx:1.27', { registry: '', repository: 'nginx', tag: '1.27', digest: '' }],
    ['library/nginx', { registry: '', repository: 'library/nginx', tag: '', digest: '' }],
    ['docker.io/library/nginx:1.0', { registry: 'docker.io', repository: 'library/nginx', tag: '1.0', digest: '' }],
    ['localhost/app', { registry: 'localhost', repository: 'app', tag: '', digest: '' }],
    ['host:5000/app:v2', { registry: 'host:5000', repository: 'app', tag: 'v2', digest: '' }],
    ['app@sha256:abc', { registry: '', repository: 'app', tag: '', digest: 'sha256:abc' }],
  ];
  for (const [image, want] of cases) {
    t.same(parseImage(image), want, image);
    t.equal(formatImage(parseImage(image)), image, `${image} round-trips`);
  }
});

t.test('reviseReplicas', async (t) => {
  t.equal((reviseReplicas(deployment(), 5)['spec'] as { replicas: number }).replicas, 5, 'Deployment spec.replicas');
  t.equal((reviseReplicas({ apiVersion: 'batch/v1', kind: 'Job', metadata: {}, spec: { parallelism: 4 } }, 1)['spec'] as { parallelism: number }).parallelism, 1, 'Job parallelism');
  t.equal(((reviseReplicas({ apiVersion: 'webapp.my.domain/v1', kind: 'Guestbook', metadata: {}, spec: { size: 2 } }, 7, { specReplicasPath: '.spec.size' })['spec']) as { size: number }).size, 7, 'a CR through its scale path');
  t.same(reviseReplicas({ apiVersion: 'v1', kind: 'ConfigMap', metadata: {}, data: { a: '1' } }, 3)['data'], { a: '1' }, 'other kinds untouched');
  const original = deployment();
  reviseReplicas(original, 9);
  t.equal((original['spec'] as { replicas: number }).replicas, 2, 'the input is not changed');
});

t.test('overriders', async (t) => {
  const apply = (rules: unknown[], target = cluster('member1', { location: 'us' })) => applyOverrides(deployment(), target, { overridePolicies: [op('p', rules)], clusterOverridePolicies: [] }).object;
  const rule = (overriders: Record<string, unknown>, targetCluster?: unknown) => ({ ...(targetCluster ? { targetCluster } : {}), overriders });
  t.same(containers(apply([rule({ imageOverrider: [{ component: 'Registry', operator: 'replace', value: 'fictional.registry.us' }] })])).map((c) => c.image), ['fictional.registry.us/nginx:1.27', 'fictional.registry.us/library/busybox'], 'image registry replace, every container');
  t.same(containers(apply([rule({ imageOverrider: [{ component: 'Registry', operator: 'add', value: 'test-repo' }] })])).map((c) => c.image), ['test-repo/nginx:1.27', 'docker.iotest-repo/library/busybox'], 'add appends to the component');
  t.same(containers(apply([rule({ imageOverrider: [{ component: 'Tag', operator: 'add', value: '-alpine' }] })]))[0]?.image, 'nginx:1.27-alpine', 'tag add');
  t.same(containers(apply([rule({ imageOverrider: [{ component: 'Tag', operator: 'remove' }] })]))[0]?.image, 'nginx', 'tag remove');
  t.same(containers(apply([rule({ imageOverrider: [{ predicate: { path: '/spec/template/spec/containers/1/image' }, component: 'Repository', operator: 'replace', value: 'tools/busybox' }] })])).map((c) => c.image), ['nginx:1.27', 'docker.io/tools/busybox'], 'a predicate picks one image');
  t.same(containers(apply([rule({ commandOverrider: [{ containerName: 'nginx', operator: 'add', value: ['--fast'] }] })]))[0]?.command, ['run', '--fast'], 'command add appends');
  t.same(containers(apply([rule({ commandOverrider: [{ containerName: 'nginx', operator: 'remove', value: ['run'] }] })]))[0]?.command, [], 'command remove');
  t.same(containers(apply([rule({ argsOverrider: [{ containerName: 'side', operator: 'add', value: ['-v'] }] })]))[1]?.args, ['-v'], 'args add creates the list');
  t.equal(containers(apply([rule({ commandOverrider: [{ containerName: 'alpine', operator: 'add', value: ['test'] }] })]))[0]?.command?.length, 1, 'no such container: no-op');
  const labels = apply([rule({ labelsOverrider: [{ operator: 'add', value: { env: 'dev' } }, { operator: 'remove', value: { bar: '' } }, { operator: 'replace', value: { app: 'web', missing: 'x' } }] })]).metadata.labels;
  t.same(labels, { app: 'web', env: 'dev' }, 'labels: add, remove, replace only existing keys');
  t.same(apply([rule({ annotationsOverrider: [{ operator: 'add', value: { env: 'stage' } }, { operator: 'replace', value: { emma: 'sophia' } }] })]).metadata.annotations, { emma: 'sophia', bom: 'b', env: 'stage' }, 'annotations on the object itself');
  t.equal((apply([rule({ plaintext: [{ operator: 'replace', path: '/spec/replicas', value: 1 }] })])['spec'] as { replicas: number }).replicas, 1, 'plaintext replace');
  t.same(apply([rule({ plaintext: [{ operator: 'add', path: '/metadata/annotations', value: { OverridePolicy: 'test' } }] })]).metadata.annotations, { OverridePolicy: 'test' }, 'plaintext add replaces a whole map');
  t.throws(() => apply([rule({ plaintext: [{ operator: 'remove', path: '/spec/nothing' }] })]), OverrideError, 'a failing patch is an OverrideError');
  t.same(apply([rule({ labelsOverrider: [{ operator: 'add', value: { cn: 'yes' } }] }, { labelSelector: { matchLabels: { location: 'cn' } } })]).metadata.labels, { app: 'nginx', bar: 'x' }, 'a rule for other clusters does not apply');

  const configMap: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, data: { 'db.json': '{"port":3306}', 'db.yaml': 'port: "3306"\nhost: a\n' } };
  const fieldPolicy = op('f', [rule({ fieldOverrider: [{ fieldPath: '/data/db.json', json: [{ subPath: '/port', operator: 'replace', value: 5432 }] }, { fieldPath: '/data/db.yaml', yaml: [{ subPath: '/host', operator: 'replace', value: 'b' }] }] })], [{ apiVersion: 'v1', kind: 'ConfigMap' }]);
  const overridden = applyOverrides(configMap, cluster('m'), { overridePolicies: [fieldPolicy], clusterOverridePolicies: [] }).object['data'] as Record<string, string>;
  t.equal(overridden['db.json'], '{"port":5432}', 'fieldOverrider JSON');
  t.equal(overridden['db.yaml'], 'host: b\nport: "3306"\n', 'fieldOverrider YAML: keys sorted, the quoted string stays quoted');
});

t.test('policy order: COPs then OPs (OP wins); match-all < label selector < name, then name', async (t) => {
  const set = (value: string) => ({ overriders: { labelsOverrider: [{ operator: 'add', value: { winner: value } }] } });
  const cop: KubeObject = { apiVersion: 'policy.karmada.io/v1alpha1', kind: 'ClusterOverridePolicy', metadata: { name: 'a-cop' }, spec: { resourceSelectors: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'nginx' }], overrideRules: [set('cop')] } };
  const result = applyOverrides(deployment(), cluster('m'), {
    clusterOverridePolicies: [cop],
    overridePolicies: [op('z-by-name', [set('name')]), op('a-all', [set('all')], []), op('m-label', [set('label')], [{ apiVersion: 'apps/v1', kind: 'Deployment', labelSelector: { matchLabels: { app: 'nginx' } } }]), op('other-ns', [set('other')], [], 'kube-system')],
  });
  t.equal(result.object.metadata.labels?.['winner'], 'name', 'the name-selecting OverridePolicy applies last');
  t.same(result.appliedOverrides.map((o) => o.policyName), ['a-all', 'm-label', 'z-by-name'], 'applied OPs recorded sorted by name; another namespace is ignored');
  t.same(result.appliedClusterOverrides.map((o) => o.policyName), ['a-cop'], 'applied COPs recorded');
  const deleting = { ...op('z-by-name', [set('deleting')]), metadata: { name: 'zz', namespace: 'default', deletionTimestamp: '2026-01-01T00:00:00Z' } };
  t.equal(applyOverrides(deployment(), cluster('m'), { clusterOverridePolicies: [], overridePolicies: [deleting] }).object.metadata.labels?.['winner'], undefined, 'a policy being deleted is skipped');
});

t.test('buildWork: the Work and its manifest', async (t) => {
  const binding: KubeObject = {
    apiVersion: 'work.karmada.io/v1alpha2', kind: 'ResourceBinding',
    metadata: { name: 'nginx-deployment', namespace: 'default', labels: { 'resourcebinding.karmada.io/permanent-id': 'rb-id' } },
    spec: { replicas: 2, clusters: [{ name: 'member1', replicas: 1 }, { name: 'member2', replicas: 1 }], conflictResolution: 'Overwrite', suspension: { dispatchingOnClusters: { clusterNames: ['member2'] } }, preserveResourcesOnDeletion: true },
  };
  const work = buildWork({ template: deployment(), binding, cluster: cluster('member1'), replicas: 1, overridePolicies: [], clusterOverridePolicies: [] });
  t.match(work.metadata, { name: 'nginx-687f7fb96f', namespace: 'karmada-es-member1', finalizers: ['karmada.io/execution-controller'], labels: { 'resourcebinding.karmada.io/permanent-id': 'rb-id' } });
  t.match(work.metadata.annotations, { 'resourcebinding.karmada.io/name': 'nginx-deployment', 'resourcebinding.karmada.io/namespace': 'default', 'work.karmada.io/conflict-resolution': 'overwrite' });
  const spec = work['spec'] as { workload: { manifests: KubeObject[] }; suspendDispatching?: boolean; preserveResourcesOnDeletion?: boolean };
  t.equal(spec.suspendDispatching, undefined, 'member1 is not suspended');
  t.equal(spec.preserveResourcesOnDeletion, true);
  const manifest = spec.workload.manifests[0] as KubeObject;
  t.equal((manifest['spec'] as { replicas: number }).replicas, 1, "replicas revised to the cluster's share");
  t.match(manifest.metadata.labels, { 'karmada.io/managed': 'true', 'resourcebinding.karmada.io/permanent-id': 'rb-id', app: 'nginx' });
  t.match(manifest.metadata.annotations, { 'resourcetemplate.karmada.io/uid': 'u-1', 'resourcetemplate.karmada.io/generation': '3', 'work.karmada.io/name': 'nginx-687f7fb96f', 'work.karmada.io/namespace': 'karmada-es-member1' });
  for (const field of ['uid', 'resourceVersion', 'generation', 'managedFields']) t.equal((manifest.metadata as Record<string, unknown>)[field], undefined, `metadata.${field} pruned`);
  t.equal(manifest['status'], undefined, 'status pruned');
  const suspended = buildWork({ template: deployment(), binding, cluster: cluster('member2'), replicas: 1, overridePolicies: [], clusterOverridePolicies: [] });
  t.equal((suspended['spec'] as { suspendDispatching?: boolean }).suspendDispatching, true, 'dispatchingOnClusters suspends member2');
  const templateAnnotated = deployment();
  templateAnnotated.metadata.annotations = { 'work.karmada.io/conflict-resolution': 'abort' };
  t.equal(buildWork({ template: templateAnnotated, binding, cluster: cluster('member1'), replicas: 1, overridePolicies: [], clusterOverridePolicies: [] }).metadata.annotations?.['work.karmada.io/conflict-resolution'], 'abort', "the template's annotation beats the binding");

  const job: KubeObject = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', namespace: 'default', uid: 'even' }, spec: { parallelism: 3, completions: 6 } };
  const divided = { ...binding, spec: { replicas: 3, placement: { replicaScheduling: { replicaSchedulingType: 'Divided' } }, clusters: [{ name: 'member1', replicas: 1 }, { name: 'member2', replicas: 2 }] } };
  const jobSpec = (c: string, r: number) => ((buildWork({ template: job, binding: divided, cluster: cluster(c), replicas: r, overridePolicies: [], clusterOverridePolicies: [] })['spec'] as { workload: { manifests: KubeObject[] } }).workload.manifests[0]?.['spec']) as { parallelism: number; completions: number };
  t.same([jobSpec('member1', 1), jobSpec('member2', 2)], [{ parallelism: 1, completions: 2 }, { parallelism: 2, completions: 4 }], 'a Divided Job: parallelism revised, completions split by replicas');

  const namespaceWork = buildNamespaceWork({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'foo', uid: 'ns-uid' }, spec: { finalizers: ['kubernetes'] } }, cluster('member3'), []);
  t.match(namespaceWork.metadata, { name: 'foo-5dbdc7b59c', namespace: 'karmada-es-member3', ownerReferences: [{ kind: 'Namespace', name: 'foo', uid: 'ns-uid' }] });
});
