import t from 'tap';
import type { KubeObject } from '../../src/api/object.js';
import { isApiError, resourcePath } from '../../src/client/client.js';
import { startControllers } from '../../src/controllers/manager.js';
import { issueClientCertificate } from '../../src/server/pki.js';
import { tempDir } from '../helpers/temp-dir.js';
import { eventually, silentLogger, startInProcessServer } from '../helpers/in-process-server.js';

/**
 * The resource detector against a real in-process control plane (Kubernetes + Karmada API) with the
 * controller manager running as a client: templates + policies → claims and bindings.
 */
const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' };
const JOBS = { group: 'batch', version: 'v1', resource: 'jobs' };
const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' };
const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces' };
const CRDS = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions' };
const PPS = { group: 'policy.karmada.io', version: 'v1alpha1', resource: 'propagationpolicies' };
const CPPS = { group: 'policy.karmada.io', version: 'v1alpha1', resource: 'clusterpropagationpolicies' };
const OPS = { group: 'policy.karmada.io', version: 'v1alpha1', resource: 'overridepolicies' };
const RBS = { group: 'work.karmada.io', version: 'v1alpha2', resource: 'resourcebindings' };
const CRBS = { group: 'work.karmada.io', version: 'v1alpha2', resource: 'clusterresourcebindings' };

const PP_ID = 'propagationpolicy.karmada.io/permanent-id';
const PP_NAME = 'propagationpolicy.karmada.io/name';
const PP_NAMESPACE = 'propagationpolicy.karmada.io/namespace';
const CPP_ID = 'clusterpropagationpolicy.karmada.io/permanent-id';
const CPP_NAME = 'clusterpropagationpolicy.karmada.io/name';

const dir = await tempDir('detector');
const cp = await startInProcessServer(dir.path, 'control-plane', { karmada: true });
const cert = await issueClientCertificate(cp.pki, { commonName: 'system:flotilla-controller-manager', organizations: ['system:masters'] });
const controllers = await startControllers({ server: cp.url, caPem: cp.pki.caCertPem, certPem: cert.certPem, keyPem: cert.keyPem, logger: silentLogger, federation: true, rediscoveryMs: 300 });
t.teardown(async () => {
  await controllers.stop();
  await cp.stop();
  await dir.remove();
});
t.ok(await controllers.waitForSync(20_000), 'controllers synced');

const api = cp.admin;
let serial = 0;
async function namespace(): Promise<string> {
  const name = `detector-${++serial}`;
  await api.create(resourcePath(NAMESPACES), { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

function deployment(ns: string, name: string, extra: { replicas?: number; labels?: Record<string, string>; resources?: unknown } = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, ...(extra.labels ? { labels: extra.labels } : {}) },
    spec: {
      replicas: extra.replicas ?? 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx', ...(extra.resources ? { resources: extra.resources } : {}) }] } },
    },
  };
}

function policy(kind: 'PropagationPolicy' | 'ClusterPropagationPolicy', name: string, ns: string | undefined, selectors: Record<string, unknown>[], extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'policy.karmada.io/v1alpha1',
    kind,
    metadata: { name, ...(ns ? { namespace: ns } : {}) },
    spec: { resourceSelectors: selectors, placement: { clusterAffinity: { clusterNames: ['member1'] } }, ...extra },
  };
}

const get = async (resource: typeof RBS, ns: string | undefined, name: string): Promise<KubeObject | undefined> => {
  try {
    return await api.get(resourcePath(resource, ns, name));
  } catch (err) {
    if (isApiError(err, 404)) return undefined;
    throw err;
  }
};
const specOf = (o: KubeObject | undefined): Record<string, unknown> => ((o?.['spec'] ?? {}) as Record<string, unknown>);

t.test('a PropagationPolicy claims a Deployment and the detector writes its ResourceBinding', async (t) => {
  const ns = await namespace();
  const pp = await api.create(resourcePath(PPS, ns), policy('PropagationPolicy', 'nginx-pp', ns, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'nginx' }]));
  const ppId = pp.metadata.labels?.[PP_ID];
  t.ok(ppId, 'the policy got its permanent id');
  const created = await api.create(
    resourcePath(DEPLOYMENTS, ns),
    deployment(ns, 'nginx', { resources: { requests: { cpu: '100m' }, limits: { cpu: '200m', memory: '128Mi' } } }),
  );
  const rb = await eventually(t, 'binding nginx-deployment exists', () => get(RBS, ns, 'nginx-deployment'));
  const template = await api.get(resourcePath(DEPLOYMENTS, ns, 'nginx'));
  t.equal(template.metadata.labels?.[PP_ID], ppId, 'template carries the claim label');
  t.equal(template.metadata.annotations?.[PP_NAME], 'nginx-pp');
  t.equal(template.metadata.annotations?.[PP_NAMESPACE], ns);
  t.equal(rb?.metadata.labels?.[PP_ID], ppId, 'binding carries the claim label');
  t.equal(rb?.metadata.annotations?.[PP_NAME], 'nginx-pp');
  t.ok(rb?.metadata.labels?.['resourcebinding.karmada.io/permanent-id'], 'binding got its own permanent id');
  t.same(rb?.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'nginx', uid: created.metadata.uid, controller: true, blockOwnerDeletion: true }]);
  const spec = specOf(rb);
  t.same(spec['resource'], { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'nginx', uid: created.metadata.uid, resourceVersion: template.metadata.resourceVersion });
  t.equal(spec['replicas'], 2);
  t.same(spec['replicaRequirements'], { resourceRequest: { cpu: '100m', memory: '128Mi' } }, 'requests, with limits standing in for missing ones');
  t.same(spec['placement'], specOf(pp)['placement'], 'placement copied from the policy');
  t.equal(spec['schedulerName'], 'default-scheduler');
  t.notOk(spec['clusters'], 'the detector does not schedule');
});

t.test('a template created before its policy is claimed when the policy arrives; status-only changes write nothing', async (t) => {
  const ns = await namespace();
  await api.create(resourcePath(DEPLOYMENTS, ns), deployment(ns, 'web', { labels: { tier: 'web' } }));
  await new Promise((r) => setTimeout(r, 300));
  t.notOk(await get(RBS, ns, 'web-deployment'), 'no binding without a policy');
  await api.create(resourcePath(PPS, ns), policy('PropagationPolicy', 'by-label', ns, [{ apiVersion: 'apps/v1', kind: 'Deployment', labelSelector: { matchLabels: { tier: 'web' } } }]));
  const rb = await eventually(t, 'binding appears once the policy exists', () => get(RBS, ns, 'web-deployment'));
  const template = await api.get(resourcePath(DEPLOYMENTS, ns, 'web'));
  await api.update(resourcePath(DEPLOYMENTS, ns, 'web') + '/status', { ...template, status: { replicas: 2, observedGeneration: 1 } });
  await new Promise((r) => setTimeout(r, 500));
  // The scheduler writes the binding too; what the detector owns is spec.resource (it would move to the new resourceVersion).
  const after = await get(RBS, ns, 'web-deployment');
  t.same(specOf(after)['resource'], specOf(rb)['resource'], 'a status update of the template does not touch the binding');
  await api.patch(resourcePath(DEPLOYMENTS, ns, 'web'), 'merge', { spec: { replicas: 5 } });
  await eventually(t, 'a spec change reaches the binding', async () => specOf(await get(RBS, ns, 'web-deployment'))['replicas'] === 5);
});

t.test('policy choice: PropagationPolicy over ClusterPropagationPolicy, priority, then name > labels > all, then name order', async (t) => {
  const ns = await namespace();
  const cpp = await api.create(resourcePath(CPPS), policy('ClusterPropagationPolicy', `${ns}-cpp`, undefined, [{ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns }]));
  t.teardown(() => api.delete(resourcePath(CPPS, undefined, `${ns}-cpp`)).catch(() => undefined));
  await api.create(resourcePath(CONFIGMAPS, ns), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'only-cpp' } });
  const byCpp = await eventually(t, 'a namespaced template matched by a CPP gets a ResourceBinding', () => get(RBS, ns, 'only-cpp-configmap'));
  t.equal(byCpp?.metadata.labels?.[CPP_ID], cpp.metadata.labels?.[CPP_ID]);
  t.equal(byCpp?.metadata.annotations?.[CPP_NAME], `${ns}-cpp`);

  await api.create(resourcePath(PPS, ns), policy('PropagationPolicy', 'b-all', ns, [{ apiVersion: 'v1', kind: 'ConfigMap' }]));
  await api.create(resourcePath(PPS, ns), policy('PropagationPolicy', 'a-all', ns, [{ apiVersion: 'v1', kind: 'ConfigMap' }]));
  await api.create(resourcePath(PPS, ns), policy('PropagationPolicy', 'z-labels', ns, [{ apiVersion: 'v1', kind: 'ConfigMap', labelSelector: { matchLabels: { pick: 'labels' } } }]));
  await api.create(resourcePath(PPS, ns), policy('PropagationPolicy', 'y-name', ns, [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'by-name' }]));
  await api.create(resourcePath(PPS, ns), policy('PropagationPolicy', 'x-priority', ns, [{ apiVersion: 'v1', kind: 'ConfigMap', labelSelector: { matchLabels: { pick: 'priority' } } }], { priority: 5 }));
  await new Promise((r) => setTimeout(r, 200));
  const cases: [string, Record<string, string>, string][] = [
    ['plain', {}, 'a-all'],
    ['by-name', { pick: 'labels' }, 'y-name'],
    ['by-labels', { pick: 'labels' }, 'z-labels'],
    ['by-priority', { pick: 'priority' }, 'x-priority'],
  ];
  for (const [name, labels, winner] of cases) {
    await api.create(resourcePath(CONFIGMAPS, ns), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels } });
    await eventually(t, `${name} is claimed by ${winner}`, async () => (await get(RBS, ns, `${name}-configmap`))?.metadata.annotations?.[PP_NAME] === winner);
  }
  await eventually(t, 'the template the CPP claimed first stays with it (no preemption)', async () => (await get(RBS, ns, 'only-cpp-configmap'))?.metadata.annotations?.[CPP_NAME] === `${ns}-cpp`);
});

t.test('preemption: Always takes a claimed template from a lower-priority policy; without it the claim stays', async (t) => {
  const ns = await namespace();
  await api.create(resourcePath(PPS, ns), policy('PropagationPolicy', 'low', ns, [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'app' }]));
  await api.create(resourcePath(CONFIGMAPS, ns), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app' } });
  await eventually(t, 'claimed by low', async () => (await get(RBS, ns, 'app-configmap'))?.metadata.annotations?.[PP_NAME] === 'low');
  await api.create(resourcePath(PPS, ns), policy('PropagationPolicy', 'high-never', ns, [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'app' }], { priority: 10 }));
  await new Promise((r) => setTimeout(r, 500));
  t.equal((await api.get(resourcePath(CONFIGMAPS, ns, 'app'))).metadata.annotations?.[PP_NAME], 'low', 'a higher priority alone does not take it');
  await api.create(resourcePath(PPS, ns), policy('PropagationPolicy', 'high-always', ns, [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'app' }], { priority: 20, preemption: 'Always' }));
  await eventually(t, 'preempted by high-always', async () => (await get(RBS, ns, 'app-configmap'))?.metadata.annotations?.[PP_NAME] === 'high-always');
  t.equal((await api.get(resourcePath(CONFIGMAPS, ns, 'app'))).metadata.annotations?.[PP_NAME], 'high-always');
});

t.test('a policy that stops selecting a template releases it to the next policy; deleting a policy keeps the binding', async (t) => {
  const ns = await namespace();
  await api.create(resourcePath(PPS, ns), policy('PropagationPolicy', 'first', ns, [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'cfg' }], { priority: 2 }));
  await api.create(resourcePath(PPS, ns), policy('PropagationPolicy', 'second', ns, [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'cfg' }]));
  await api.create(resourcePath(CONFIGMAPS, ns), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' } });
  await eventually(t, 'claimed by first', async () => (await get(RBS, ns, 'cfg-configmap'))?.metadata.annotations?.[PP_NAME] === 'first');
  await api.patch(resourcePath(PPS, ns, 'first'), 'merge', { spec: { resourceSelectors: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'other' }] } });
  await eventually(t, 'released and claimed by second', async () => (await get(RBS, ns, 'cfg-configmap'))?.metadata.annotations?.[PP_NAME] === 'second');
  const rb = await get(RBS, ns, 'cfg-configmap');
  await api.delete(resourcePath(PPS, ns, 'second'));
  await eventually(t, 'the claim is removed from the template', async () => !(await api.get(resourcePath(CONFIGMAPS, ns, 'cfg'))).metadata.labels?.[PP_ID]);
  const after = await eventually(t, 'the claim is removed from the binding', async () => {
    const b = await get(RBS, ns, 'cfg-configmap');
    return b && !b.metadata.labels?.[PP_ID] ? b : undefined;
  });
  t.equal(after?.metadata.uid, rb?.metadata.uid, 'the binding stays');
});

t.test('deleting the template removes its binding; deleting the binding of a claimed template recreates it', async (t) => {
  const ns = await namespace();
  await api.create(resourcePath(PPS, ns), policy('PropagationPolicy', 'p', ns, [{ apiVersion: 'apps/v1', kind: 'Deployment' }]));
  await api.create(resourcePath(DEPLOYMENTS, ns), deployment(ns, 'gone'));
  const rb = await eventually(t, 'binding exists', () => get(RBS, ns, 'gone-deployment'));
  await api.delete(resourcePath(RBS, ns, 'gone-deployment'));
  await eventually(t, 'binding recreated', async () => {
    const again = await get(RBS, ns, 'gone-deployment');
    return again && again.metadata.uid !== rb?.metadata.uid;
  });
  await api.delete(resourcePath(DEPLOYMENTS, ns, 'gone'));
  await eventually(t, 'binding garbage-collected with its template', async () => (await get(RBS, ns, 'gone-deployment')) === undefined);
});

t.test('Job replicas are min(parallelism, completions); cluster-scoped templates get a ClusterResourceBinding', async (t) => {
  const ns = await namespace();
  await api.create(resourcePath(PPS, ns), policy('PropagationPolicy', 'jobs', ns, [{ apiVersion: 'batch/v1', kind: 'Job' }]));
  const job = (name: string, parallelism: number, completions?: number): KubeObject => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: ns },
    spec: { parallelism, ...(completions !== undefined ? { completions } : {}), template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
  });
  await api.create(resourcePath(JOBS, ns), job('wide', 5, 3));
  await api.create(resourcePath(JOBS, ns), job('narrow', 2, 10));
  await eventually(t, 'parallelism capped by completions', async () => specOf(await get(RBS, ns, 'wide-job'))['replicas'] === 3);
  await eventually(t, 'parallelism below completions', async () => specOf(await get(RBS, ns, 'narrow-job'))['replicas'] === 2);

  await api.create(resourcePath(CPPS), policy('ClusterPropagationPolicy', `${ns}-namespaces`, undefined, [{ apiVersion: 'v1', kind: 'Namespace', name: ns }]));
  t.teardown(() => api.delete(resourcePath(CPPS, undefined, `${ns}-namespaces`)).catch(() => undefined));
  const crb = await eventually(t, 'the Namespace gets a ClusterResourceBinding', () => get(CRBS, undefined, `${ns}-namespace`));
  t.same(specOf(crb)['resource'], { apiVersion: 'v1', kind: 'Namespace', name: ns, uid: (await api.get(resourcePath(NAMESPACES, undefined, ns))).metadata.uid, resourceVersion: (await api.get(resourcePath(NAMESPACES, undefined, ns))).metadata.resourceVersion });
  t.notOk(specOf(crb)['replicas'], 'not a workload: no replicas');
});

t.test('a custom resource with a scale subresource: replicas from specReplicasPath', async (t) => {
  const ns = await namespace();
  await api.create(resourcePath(CRDS), {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'scalers.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'scalers', singular: 'scaler', kind: 'Scaler', listKind: 'ScalerList' },
      versions: [{ name: 'v1', served: true, storage: true, subresources: { status: {}, scale: { specReplicasPath: '.spec.size', statusReplicasPath: '.status.size' } }, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } }, status: { type: 'object', properties: { size: { type: 'integer' } } } } } } }],
    },
  });
  t.teardown(() => api.delete(resourcePath(CRDS, undefined, 'scalers.example.com')).catch(() => undefined));
  await api.create(resourcePath(PPS, ns), policy('PropagationPolicy', 'scalers', ns, [{ apiVersion: 'example.com/v1', kind: 'Scaler' }]));
  await eventually(t, 'custom resource created', async () => api.create(resourcePath({ group: 'example.com', version: 'v1', resource: 'scalers' }, ns), { apiVersion: 'example.com/v1', kind: 'Scaler', metadata: { name: 's' }, spec: { size: 7 } }));
  await eventually(t, 'binding with 7 replicas', async () => specOf(await get(RBS, ns, 's-scaler'))['replicas'] === 7);
});

t.test('dependentOverrides: the template waits until the named OverridePolicy exists', async (t) => {
  const ns = await namespace();
  await api.create(resourcePath(PPS, ns), policy('PropagationPolicy', 'needs-op', ns, [{ apiVersion: 'v1', kind: 'ConfigMap' }], { dependentOverrides: ['op'] }));
  await api.create(resourcePath(CONFIGMAPS, ns), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'waiting' } });
  await new Promise((r) => setTimeout(r, 500));
  t.notOk(await get(RBS, ns, 'waiting-configmap'), 'no binding while the override is missing');
  await api.create(resourcePath(OPS, ns), { apiVersion: 'policy.karmada.io/v1alpha1', kind: 'OverridePolicy', metadata: { name: 'op' }, spec: { resourceSelectors: [{ apiVersion: 'v1', kind: 'ConfigMap' }], overrideRules: [] } });
  await eventually(t, 'binding appears once the override exists', () => get(RBS, ns, 'waiting-configmap'));
});

t.test('Lazy activation: a policy change reaches the binding only when the template changes', async (t) => {
  const ns = await namespace();
  await api.create(resourcePath(PPS, ns), policy('PropagationPolicy', 'lazy', ns, [{ apiVersion: 'v1', kind: 'ConfigMap' }], { activationPreference: 'Lazy' }));
  await api.create(resourcePath(CONFIGMAPS, ns), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'lz' }, data: { a: '1' } });
  await eventually(t, 'binding created', () => get(RBS, ns, 'lz-configmap'));
  await api.patch(resourcePath(PPS, ns, 'lazy'), 'merge', { spec: { placement: { clusterAffinity: { clusterNames: ['member2'] } } } });
  await new Promise((r) => setTimeout(r, 600));
  const names = async () => ((specOf(await get(RBS, ns, 'lz-configmap'))['placement'] as { clusterAffinity?: { clusterNames?: string[] } } | undefined)?.clusterAffinity?.clusterNames ?? []).join();
  t.equal(await names(), 'member1', 'the policy change waits');
  await api.patch(resourcePath(CONFIGMAPS, ns, 'lz'), 'merge', { data: { a: '2' } });
  await eventually(t, 'the template change brings the new placement', async () => (await names()) === 'member2');
});

t.test('templates in reserved and skipped namespaces are never claimed', async (t) => {
  await api.create(resourcePath(CPPS), policy('ClusterPropagationPolicy', 'all-configmaps', undefined, [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'reserved-check' }]));
  t.teardown(() => api.delete(resourcePath(CPPS, undefined, 'all-configmaps')).catch(() => undefined));
  for (const ns of ['karmada-system', 'kube-system']) {
    await api.create(resourcePath(CONFIGMAPS, ns), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'reserved-check' } }).catch(() => undefined);
  }
  const other = await namespace();
  await api.create(resourcePath(CONFIGMAPS, other), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'reserved-check' } });
  await eventually(t, 'an ordinary namespace is claimed', () => get(RBS, other, 'reserved-check-configmap'));
  t.notOk(await get(RBS, 'karmada-system', 'reserved-check-configmap'), 'karmada-system is reserved');
  t.notOk(await get(RBS, 'kube-system', 'reserved-check-configmap'), 'kube-* is skipped');
  t.notOk((await api.get(resourcePath(CONFIGMAPS, 'kube-system', 'reserved-check'))).metadata.labels?.[CPP_ID], 'and not labelled');
});
