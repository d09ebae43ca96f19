import t from 'tap';
import { resourcePath } from '../../src/client/client.js';
import { collectApiEnablements } from '../../src/controllers/cluster-status.js';
import { workName } from '../../src/karmada/work-builder.js';
import { eventually } from '../helpers/in-process-server.js';
import { getOrUndefined, startInProcessFederation } from '../helpers/in-process-federation.js';

/**
 * A Work being deleted while its cluster's API enablements are incomplete (Karmada writes them empty
 * when discovery fails, e.g. a member that went away between its health probe and its discovery):
 * the execution controller cannot tell whether the member serves the kind, so it keeps the Work's
 * finalizer and tries again; once the enablements are complete the member object is deleted and the
 * Work goes. Releasing the Work on an empty list would leave the object in the member for good.
 * The cluster status controller is off here: the test writes the Cluster's status itself.
 */
const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' };
const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces' };
const CLUSTERS = { group: 'cluster.karmada.io', version: 'v1alpha1', resource: 'clusters' };
const PPS = { group: 'policy.karmada.io', version: 'v1alpha1', resource: 'propagationpolicies' };
const WORKS = { group: 'work.karmada.io', version: 'v1alpha1', resource: 'works' };

const fed = await startInProcessFederation('execution-deletion', {
  members: [{ name: 'member1' }],
  nodes: { count: 1, cpu: '8', memory: '16Gi', pods: 110 },
  enabledControllers: ['*', '-cluster-status'],
});
t.teardown(() => fed.stop());
const api = fed.cp.admin;
const member = fed.member('member1');

/** Writes member1's Cluster status: Ready, with the enablements given (complete or, when empty, not). */
async function writeClusterStatus(enablements: readonly unknown[]): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const cluster = await api.get(resourcePath(CLUSTERS, undefined, 'member1'));
  const complete = enablements.length > 0;
  await api.update(`${resourcePath(CLUSTERS, undefined, 'member1')}/status`, {
    ...cluster,
    status: {
      kubernetesVersion: 'v1.31.0',
      ...(complete ? { apiEnablements: enablements } : {}),
      conditions: [
        { type: 'Ready', status: 'True', reason: 'ClusterReady', message: 'cluster is healthy and ready to accept workloads', lastTransitionTime: now },
        complete
          ? { type: 'CompleteAPIEnablements', status: 'True', reason: 'Complete', message: 'collected complete APIEnablements from the cluster', lastTransitionTime: now }
          : { type: 'CompleteAPIEnablements', status: 'False', reason: 'Empty', message: 'collected empty APIEnablements from the cluster', lastTransitionTime: now },
      ],
    },
  });
}

t.test('a Work whose cluster has incomplete API enablements keeps its finalizer until they are complete', async (t) => {
  const { enablements } = await collectApiEnablements(member);
  t.ok(enablements.length > 0, "member1's API enablements collected");
  await writeClusterStatus(enablements);

  await api.create(resourcePath(NAMESPACES), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'exec' } });
  await api.create(resourcePath(DEPLOYMENTS, 'exec'), {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'exec' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
  });
  await api.create(resourcePath(PPS, 'exec'), {
    apiVersion: 'policy.karmada.io/v1alpha1',
    kind: 'PropagationPolicy',
    metadata: { name: 'web', namespace: 'exec' },
    spec: { resourceSelectors: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }], placement: { clusterAffinity: { clusterNames: ['member1'] } } },
  });
  const memberPath = resourcePath(DEPLOYMENTS, 'exec', 'web');
  const workPath = resourcePath(WORKS, 'karmada-es-member1', workName('Deployment', 'web', 'exec'));
  await eventually(t, 'web runs in member1', async () => getOrUndefined(member, memberPath), 20_000);

  await writeClusterStatus([]);
  await api.delete(resourcePath(DEPLOYMENTS, 'exec', 'web'));
  const pending = await eventually(t, 'the Work is being deleted', async () => {
    const work = await getOrUndefined(api, workPath);
    return work?.metadata.deletionTimestamp ? work : undefined;
  });
  t.ok(pending?.metadata.finalizers?.includes('karmada.io/execution-controller'), 'with its execution finalizer');
  // Long enough for several tries of the execution controller (its back-off starts in milliseconds).
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  t.ok((await getOrUndefined(api, workPath))?.metadata.finalizers?.includes('karmada.io/execution-controller'), 'the finalizer holds while the enablements are incomplete');
  t.ok(await getOrUndefined(member, memberPath), 'the object is still in member1 (nothing was released unseen)');

  await writeClusterStatus(enablements);
  await eventually(t, "member1's copy is deleted once the enablements are complete", async () => (await getOrUndefined(member, memberPath)) === undefined, 20_000);
  await eventually(t, 'the Work is gone', async () => (await getOrUndefined(api, workPath)) === undefined);
});
