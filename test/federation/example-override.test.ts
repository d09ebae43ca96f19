import { readFile } from 'node:fs/promises';
import t from 'tap';
import { parse } from 'yaml';
import type { KubeObject } from '../../src/api/object.js';
import { resourcePath } from '../../src/client/client.js';
import { workName } from '../../src/karmada/work-builder.js';
import { eventually } from '../helpers/in-process-server.js';
import { getOrUndefined, startInProcessFederation } from '../helpers/in-process-federation.js';

/**
 * Karmada's artifacts/example/example-override.yaml, unchanged, on the clusters it names (the
 * quickstart's member1..3 are not among them, so there it changes nothing): an OverridePolicy whose
 * resource selector has a name and a labelSelector (the name decides), whose targetCluster needs both
 * a listed name and the label failuredomain.kubernetes.io/region=dc1, and whose plaintext overriders
 * replace the first container's image, add /metadata/annotations (replacing the whole map) and then
 * remove the annotation they added. dc-1-cluster-1 carries the label and gets every override;
 * dc-1-cluster-2 is listed but unlabelled and gets none.
 */
const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' };
const PPS = { group: 'policy.karmada.io', version: 'v1alpha1', resource: 'propagationpolicies' };
const OPS = { group: 'policy.karmada.io', version: 'v1alpha1', resource: 'overridepolicies' };
const WORKS = { group: 'work.karmada.io', version: 'v1alpha1', resource: 'works' };
const SAMPLES = new URL('../../conformance/fixtures/karmada-samples/', import.meta.url);

const sample = async (path: string): Promise<KubeObject> => parse(await readFile(new URL(path, SAMPLES), 'utf8')) as KubeObject;

const fed = await startInProcessFederation('example-override', {
  members: [{ name: 'dc-1-cluster-1', labels: { 'failuredomain.kubernetes.io/region': 'dc1' } }, { name: 'dc-1-cluster-2' }],
  nodes: { count: 1, cpu: '8', memory: '16Gi', pods: 110 },
});
t.teardown(() => fed.stop());
const api = fed.cp.admin;

const imageOf = (d: KubeObject): unknown => ((d['spec'] as { template?: { spec?: { containers?: { image?: string }[] } } }).template?.spec?.containers ?? [])[0]?.image;

t.test('example-override.yaml: every override on the labelled listed cluster, none on the unlabelled one', async (t) => {
  const template = await sample('samples/nginx/deployment.yaml');
  // An annotation of the user's own: the plaintext `add /metadata/annotations` replaces the whole map.
  template.metadata.annotations = { team: 'web' };
  await api.create(resourcePath(DEPLOYMENTS, 'default'), template);
  const override = await sample('artifacts/example/example-override.yaml');
  await api.create(resourcePath(OPS, 'default'), override);
  await api.create(resourcePath(PPS, 'default'), {
    apiVersion: 'policy.karmada.io/v1alpha1',
    kind: 'PropagationPolicy',
    metadata: { name: 'nginx', namespace: 'default' },
    spec: { resourceSelectors: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'nginx' }], placement: { clusterAffinity: { clusterNames: ['dc-1-cluster-1', 'dc-1-cluster-2'] } } },
  });
  const path = resourcePath(DEPLOYMENTS, 'default', 'nginx');

  const overridden = await eventually(t, 'dc-1-cluster-1 runs nginx with the replaced image', async () => {
    const d = await getOrUndefined(fed.member('dc-1-cluster-1'), path);
    return d && imageOf(d) === 'dc-1.registry.io/nginx:1.17.0-alpine' ? d : undefined;
  }, 20_000);
  const annotations = overridden?.metadata.annotations ?? {};
  t.equal(annotations['foo'], undefined, 'the annotation added by the override is removed by its next overrider');
  t.equal(annotations['team'], undefined, "adding /metadata/annotations replaced the template's own annotations");
  t.ok(annotations['resourcetemplate.karmada.io/uid'], "Karmada's own annotations are put back after the overrides");
  const work = await api.get(resourcePath(WORKS, 'karmada-es-dc-1-cluster-1', workName('Deployment', 'nginx', 'default')));
  const applied = JSON.parse(work.metadata.annotations?.['policy.karmada.io/applied-overrides'] ?? '[]') as { policyName: string }[];
  t.same(applied.map((o) => o.policyName), ['example-override'], "dc-1-cluster-1's Work records example-override as applied");

  const untouched = await eventually(t, 'dc-1-cluster-2 runs nginx', async () => getOrUndefined(fed.member('dc-1-cluster-2'), path), 20_000);
  t.equal(untouched && imageOf(untouched), 'nginx', 'dc-1-cluster-2 (listed, but without region dc1) keeps the image');
  t.equal(untouched?.metadata.annotations?.['team'], 'web', "dc-1-cluster-2 keeps the template's annotations");
  const otherWork = await api.get(resourcePath(WORKS, 'karmada-es-dc-1-cluster-2', workName('Deployment', 'nginx', 'default')));
  t.equal(otherWork.metadata.annotations?.['policy.karmada.io/applied-overrides'], undefined, "dc-1-cluster-2's Work records no override");
});
