import { randomInt } from 'node:crypto';
import { isPlainObject } from '../../api/object.js';
import type { Strategy } from './strategy.js';

/**
 * Services: kube's defaults, and a cluster IP from the service range (10.96.0.0/12) for ClusterIP,
 * NodePort and LoadBalancer services. The IP is kept across updates: it belongs to the server.
 */
export const serviceStrategy: Strategy = {
  nameRule: 'label1035',
  defaults(object) {
    if (!isPlainObject(object['spec'])) object['spec'] = {};
    const spec = object['spec'] as Record<string, unknown>;
    spec['type'] ??= 'ClusterIP';
    spec['sessionAffinity'] ??= 'None';
    if (spec['type'] !== 'ExternalName') {
      spec['internalTrafficPolicy'] ??= 'Cluster';
      spec['ipFamilies'] ??= ['IPv4'];
      spec['ipFamilyPolicy'] ??= 'SingleStack';
    }
    const ports = spec['ports'];
    if (Array.isArray(ports)) {
      for (const port of ports) {
        if (!isPlainObject(port)) continue;
        port['protocol'] ??= 'TCP';
        port['targetPort'] ??= port['port'];
      }
    }
  },
  prepareForCreate(object) {
    const spec = object['spec'] as Record<string, unknown>;
    if (spec['type'] !== 'ExternalName' && spec['clusterIP'] === undefined) {
      spec['clusterIP'] = allocateClusterIp();
      spec['clusterIPs'] = [spec['clusterIP']];
    }
    object['status'] = { loadBalancer: {} };
  },
  prepareForUpdate(object, old) {
    const spec = object['spec'] as Record<string, unknown>;
    const oldSpec = isPlainObject(old['spec']) ? old['spec'] : {};
    if (spec['clusterIP'] === undefined || spec['clusterIP'] === '') spec['clusterIP'] = oldSpec['clusterIP'];
    if (spec['clusterIPs'] === undefined) spec['clusterIPs'] = oldSpec['clusterIPs'];
  },
};

/** A random address in 10.96.0.0/12 (skipping network and first addresses); collisions are improbable. */
function allocateClusterIp(): string {
  const offset = randomInt(16, (1 << 20) - 2);
  return `10.${96 + (offset >> 16)}.${(offset >> 8) & 0xff}.${offset & 0xff}`;
}
