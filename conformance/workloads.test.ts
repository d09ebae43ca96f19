import t from 'tap';
import { startServer } from './harness.js';

/**
 * Every workload kind can be created with kubectl, and reads back with the zero status kube's Go
 * types always serialize (ReplicaSet replicas, StatefulSet replicas/availableReplicas, DaemonSet
 * scheduling counts) — the schema requires those fields, so an empty status would fail validation.
 */
const template = `
  selector: { matchLabels: { app: w } }
  template:
    metadata: { labels: { app: w } }
    spec: { containers: [{ name: c, image: nginx }] }`;

const MANIFESTS: [string, string, Record<string, number>][] = [
  ['replicaset', `apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: { name: w }\nspec:\n  replicas: 2${template}\n`, { replicas: 0 }],
  ['statefulset', `apiVersion: apps/v1\nkind: StatefulSet\nmetadata: { name: w }\nspec:\n  serviceName: w\n  replicas: 2${template}\n`, { replicas: 0, availableReplicas: 0 }],
  ['daemonset', `apiVersion: apps/v1\nkind: DaemonSet\nmetadata: { name: w }\nspec:${template}\n`, { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 }],
  ['deployment', `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: w }\nspec:\n  replicas: 2${template}\n`, {}],
];

t.test('workload kinds are created by kubectl with kube\'s zero status', async (t) => {
  const server = await startServer({ controllers: false });
  t.teardown(() => server.stop());
  for (const minor of ['1.29', '1.31']) {
    for (const [resource, manifest, status] of MANIFESTS) {
      for (const flags of [['--dry-run=server'], []]) {
        const applied = await server.kubectl(minor, ['apply', ...flags, '-f', '-'], { stdin: manifest });
        t.equal(applied.code, 0, `kubectl ${minor} apply ${flags.join(' ')} ${resource}${applied.code ? `: ${applied.stderr}` : ''}`);
      }
      const read = await server.kubectl(minor, ['get', resource, 'w', '-o', 'json']);
      t.equal(read.code, 0, `kubectl ${minor} get ${resource}`);
      if (read.code === 0) t.same((JSON.parse(read.stdout) as { status?: unknown }).status ?? {}, status, `${resource} status`);
      t.equal((await server.kubectl(minor, ['delete', resource, 'w'])).code, 0, `kubectl ${minor} delete ${resource}`);
    }
  }
});

t.test("status subresources take what kube's status strategies let through: a Deployment's its metadata but labels, a ReplicaSet's and a StatefulSet's their metadata", async (t) => {
  const server = await startServer({ controllers: false });
  t.teardown(() => server.stop());
  const patch = JSON.stringify({ metadata: { annotations: { 'deployment.kubernetes.io/revision': '1' }, labels: { tier: 'web' } }, spec: { replicas: 5 }, status: { observedGeneration: 1 } });
  const expected: Record<string, { annotation: boolean; label: boolean }> = { deployment: { annotation: true, label: false }, replicaset: { annotation: true, label: true }, statefulset: { annotation: true, label: true } };
  for (const [resource, manifest] of MANIFESTS.filter(([r]) => r in expected)) {
    const want = expected[resource] as { annotation: boolean; label: boolean };
    t.equal((await server.kubectl('1.31', ['apply', '-f', '-'], { stdin: manifest })).code, 0, `kubectl apply ${resource}`);
    const patched = await server.kubectl('1.31', ['patch', resource, 'w', '--subresource=status', '--type=merge', '-p', patch]);
    t.equal(patched.code, 0, `kubectl patch ${resource} --subresource=status${patched.code ? `: ${patched.stderr}` : ''}`);
    const read = await server.kubectl('1.31', ['get', resource, 'w', '-o', 'json']);
    const object = JSON.parse(read.stdout) as { metadata: { annotations?: Record<string, string>; labels?: Record<string, string> }; spec: { replicas: number }; status: { observedGeneration?: number } };
    t.equal(object.status.observedGeneration, 1, `${resource}: the status is written`);
    t.equal(object.spec.replicas, 2, `${resource}: the spec is not`);
    t.equal(object.metadata.annotations?.['deployment.kubernetes.io/revision'], want.annotation ? '1' : undefined, `${resource}: annotations ${want.annotation ? 'are' : 'are not'} written`);
    t.equal(object.metadata.labels?.['tier'], want.label ? 'web' : undefined, `${resource}: labels ${want.label ? 'are' : 'are not'} written`);
    t.equal((await server.kubectl('1.31', ['delete', resource, 'w'])).code, 0, `kubectl delete ${resource}`);
  }
});
