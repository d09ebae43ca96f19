import { isPlainObject } from '../../api/object.js';

/** Kubernetes' defaults for a PodSpec, as `kubectl get -o yaml` shows them after create. */
export function defaultPodSpec(spec: unknown): void {
  if (!isPlainObject(spec)) return;
  spec['restartPolicy'] ??= 'Always';
  spec['terminationGracePeriodSeconds'] ??= 30;
  spec['dnsPolicy'] ??= 'ClusterFirst';
  spec['schedulerName'] ??= 'default-scheduler';
  spec['securityContext'] ??= {};
  for (const list of ['containers', 'initContainers']) {
    const containers = spec[list];
    if (Array.isArray(containers)) for (const container of containers) defaultContainer(container);
  }
}

function defaultContainer(container: unknown): void {
  if (!isPlainObject(container)) return;
  container['terminationMessagePath'] ??= '/dev/termination-log';
  container['terminationMessagePolicy'] ??= 'File';
  if (container['imagePullPolicy'] === undefined && typeof container['image'] === 'string') {
    container['imagePullPolicy'] = imageTag(container['image']) === 'latest' ? 'Always' : 'IfNotPresent';
  }
  container['resources'] ??= {};
  const ports = container['ports'];
  if (Array.isArray(ports)) for (const port of ports) if (isPlainObject(port)) port['protocol'] ??= 'TCP';
}

/** The tag of an image reference; "latest" when none (digests count as pinned). */
function imageTag(image: string): string {
  if (image.includes('@')) return 'digest';
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.indexOf(':');
  return colon >= 0 ? lastSegment.slice(colon + 1) : 'latest';
}
