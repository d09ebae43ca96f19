import { errors } from '../api/status.js';
import type { ApiExtension } from '../server/server.js';
import { KARMADA_RESOURCES } from './resources.js';
import { KARMADA_ADMISSION, deletionDenied } from './admission/index.js';
import { PLACEMENT_REVIEW_RESOURCE, placementReview } from './placement-review-endpoint.js';

/**
 * Karmada's federation API as `flotilla serve` serves it: the kinds (resources.ts), the admission
 * Karmada's webhooks perform (admission/), deletion protection for every kind, the cluster proxy,
 * and Flotilla's PlacementReview (placement explain).
 */
export const KARMADA_API: ApiExtension = {
  resources: [...KARMADA_RESOURCES, PLACEMENT_REVIEW_RESOURCE],
  admissionPlugins: KARMADA_ADMISSION,
  deleteChecks: [deletionDenied],
  // A Karmada control plane has these after installation: its components' namespace and the one that
  // holds member clusters' credentials (Cluster.spec.secretRef) and Pull-mode leases.
  namespaces: ['karmada-system', 'karmada-cluster'],
  // Placement explain: where a template would go and why, computed without storing anything.
  reviews: { [`${PLACEMENT_REVIEW_RESOURCE.group}/${PLACEMENT_REVIEW_RESOURCE.plural}`]: placementReview },
  connect: {
    'cluster.karmada.io/clusters/proxy': async (cluster) => {
      throw errors.unavailable(`the proxy to cluster "${cluster.metadata.name ?? ''}" is not available: cluster proxying is not implemented in this Flotilla release`);
    },
  },
};
