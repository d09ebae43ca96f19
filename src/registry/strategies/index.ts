import type { Strategy } from './strategy.js';
import { cronJobStrategy, daemonSetStrategy, deploymentStrategy, jobStrategy, podStrategy, replicaSetStrategy, statefulSetStrategy } from './workloads.js';
import { namespaceStrategy } from './namespace.js';
import { serviceStrategy } from './service.js';
import { crdStrategy } from '../crd/crd-strategy.js';

/** Strategies by "group/Kind"; kinds not listed are plain data. */
const STRATEGIES: Record<string, Strategy> = {
  '/Namespace': namespaceStrategy,
  '/Service': serviceStrategy,
  '/Pod': podStrategy,
  'apps/Deployment': deploymentStrategy,
  'apps/StatefulSet': statefulSetStrategy,
  'apps/DaemonSet': daemonSetStrategy,
  'apps/ReplicaSet': replicaSetStrategy,
  'batch/Job': jobStrategy,
  'batch/CronJob': cronJobStrategy,
  'apiextensions.k8s.io/CustomResourceDefinition': crdStrategy,
  // Karmada's Cluster: names are DNS-1123 labels (Karmada's own admission adds the 48-character limit).
  'cluster.karmada.io/Cluster': { nameRule: 'label' },
};

const PLAIN: Strategy = {};

export function strategyFor(group: string, kind: string): Strategy {
  return STRATEGIES[`${group}/${kind}`] ?? PLAIN;
}

export type { Strategy } from './strategy.js';
