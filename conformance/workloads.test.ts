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
