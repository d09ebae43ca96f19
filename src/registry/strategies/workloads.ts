import { isPlainObject } from '../../api/object.js';
import type { KubeObject } from '../../api/object.js';
import type { Strategy } from './strategy.js';
import { defaultPodSpec } from './pod-defaults.js';

/** Workloads: kube's defaults and status reset on create (status belongs to controllers). */
const spec = (object: KubeObject): Record<string, unknown> => {
  if (!isPlainObject(object['spec'])) object['spec'] = {};
  return object['spec'] as Record<string, unknown>;
};
const templateSpec = (owner: Record<string, unknown>): unknown => (isPlainObject(owner['template']) ? owner['template']['spec'] : undefined);
const resetStatus = (object: KubeObject): void => {
  object['status'] = {};
};
/** A fresh status holding the fields kube's Go types always serialize (no omitempty), as zeros. */
const zeroStatus = (...fields: string[]) => (object: KubeObject): void => {
  object['status'] = Object.fromEntries(fields.map((f) => [f, 0]));
};

export const deploymentStrategy: Strategy = {
  defaults(object) {
    const s = spec(object);
    s['replicas'] ??= 1;
    s['revisionHistoryLimit'] ??= 10;
    s['progressDeadlineSeconds'] ??= 600;
    if (!isPlainObject(s['strategy'])) s['strategy'] = {};
    const strategy = s['strategy'] as Record<string, unknown>;
    strategy['type'] ??= 'RollingUpdate';
    if (strategy['type'] === 'RollingUpdate') {
      if (!isPlainObject(strategy['rollingUpdate'])) strategy['rollingUpdate'] = {};
      const rolling = strategy['rollingUpdate'] as Record<string, unknown>;
      rolling['maxUnavailable'] ??= '25%';
      rolling['maxSurge'] ??= '25%';
    }
    defaultPodSpec(templateSpec(s));
  },
  prepareForCreate: resetStatus,
  statusWriteAlsoSets: 'metadata-but-labels',
};

export const statefulSetStrategy: Strategy = {
  defaults(object) {
    const s = spec(object);
    s['replicas'] ??= 1;
    s['podManagementPolicy'] ??= 'OrderedReady';
    s['revisionHistoryLimit'] ??= 10;
    s['persistentVolumeClaimRetentionPolicy'] ??= { whenDeleted: 'Retain', whenScaled: 'Retain' };
    if (!isPlainObject(s['updateStrategy'])) s['updateStrategy'] = { type: 'RollingUpdate', rollingUpdate: { partition: 0 } };
    defaultPodSpec(templateSpec(s));
  },
  prepareForCreate: zeroStatus('replicas', 'availableReplicas'),
  statusWriteAlsoSets: 'metadata',
};

export const daemonSetStrategy: Strategy = {
  defaults(object) {
    const s = spec(object);
    s['revisionHistoryLimit'] ??= 10;
    if (!isPlainObject(s['updateStrategy'])) s['updateStrategy'] = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } };
    defaultPodSpec(templateSpec(s));
  },
  prepareForCreate: zeroStatus('currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady'),
};

export const replicaSetStrategy: Strategy = {
  defaults(object) {
    const s = spec(object);
    s['replicas'] ??= 1;
    defaultPodSpec(templateSpec(s));
  },
  prepareForCreate: zeroStatus('replicas'),
  statusWriteAlsoSets: 'metadata',
};

export const jobStrategy: Strategy = {
  defaults(object) {
    const s = spec(object);
    s['parallelism'] ??= 1;
    s['backoffLimit'] ??= 6;
    s['completionMode'] ??= 'NonIndexed';
    s['suspend'] ??= false;
    if (s['completions'] === undefined && s['parallelism'] === 1) s['completions'] = 1;
    const template = templateSpec(s);
    if (isPlainObject(template)) template['restartPolicy'] ??= 'Never';
    defaultPodSpec(template);
  },
  prepareForCreate: resetStatus,
};

export const cronJobStrategy: Strategy = {
  defaults(object) {
    const s = spec(object);
    s['concurrencyPolicy'] ??= 'Allow';
    s['suspend'] ??= false;
    s['successfulJobsHistoryLimit'] ??= 3;
    s['failedJobsHistoryLimit'] ??= 1;
    const jobTemplate = isPlainObject(s['jobTemplate']) ? s['jobTemplate']['spec'] : undefined;
    if (isPlainObject(jobTemplate)) defaultPodSpec(templateSpec(jobTemplate));
  },
  prepareForCreate: resetStatus,
};

export const podStrategy: Strategy = {
  defaults(object) {
    defaultPodSpec(spec(object));
    const s = spec(object);
    s['enableServiceLinks'] ??= true;
    s['preemptionPolicy'] ??= 'PreemptLowerPriority';
    s['priority'] ??= 0;
  },
  prepareForCreate(object) {
    object['status'] = { phase: 'Pending', qosClass: 'BestEffort' };
  },
};
