import type { KubeObject } from '../api/object.js';
import { ALL_VERBS } from './resource.js';
import type { ResourceDefinition } from './resource.js';

/**
 * The Kubernetes kinds every Flotilla API server serves, as data. Verbs, short names, categories and
 * subresources are kube-apiserver's own (what `kubectl api-resources` shows against a real cluster).
 */
const field = (...path: string[]) => (object: KubeObject): string | undefined => {
  let value: unknown = object;
  for (const segment of path) value = (value as Record<string, unknown> | undefined)?.[segment];
  return value === undefined || value === null ? undefined : String(value);
};

const ordinary = { verbs: ALL_VERBS, tracksGeneration: false, strategicMerge: true } as const;
const workload = { verbs: ALL_VERBS, tracksGeneration: true, strategicMerge: true, statusSubresource: true } as const;
const replicasScale = { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' } as const;

export const BUILTIN_RESOURCES: readonly ResourceDefinition[] = [
  // core/v1
  { ...ordinary, group: '', versions: ['v1'], kind: 'Namespace', plural: 'namespaces', singular: 'namespace', namespaced: false, shortNames: ['ns'], statusSubresource: true, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], otherSubresources: ['finalize'], schemaRef: 'io.k8s.api.core.v1.Namespace', fieldSelectors: { 'status.phase': field('status', 'phase') } },
  { ...ordinary, group: '', versions: ['v1'], kind: 'ConfigMap', plural: 'configmaps', singular: 'configmap', namespaced: true, shortNames: ['cm'], schemaRef: 'io.k8s.api.core.v1.ConfigMap' },
  { ...ordinary, group: '', versions: ['v1'], kind: 'Secret', plural: 'secrets', singular: 'secret', namespaced: true, schemaRef: 'io.k8s.api.core.v1.Secret', fieldSelectors: { type: field('type') } },
  { ...ordinary, group: '', versions: ['v1'], kind: 'Service', plural: 'services', singular: 'service', namespaced: true, shortNames: ['svc'], categories: ['all'], statusSubresource: true, verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], schemaRef: 'io.k8s.api.core.v1.Service' },
  { ...ordinary, group: '', versions: ['v1'], kind: 'ServiceAccount', plural: 'serviceaccounts', singular: 'serviceaccount', namespaced: true, shortNames: ['sa'], schemaRef: 'io.k8s.api.core.v1.ServiceAccount' },
  { ...ordinary, group: '', versions: ['v1'], kind: 'Event', plural: 'events', singular: 'event', namespaced: true, shortNames: ['ev'], schemaRef: 'io.k8s.api.core.v1.Event', fieldSelectors: {
    'involvedObject.kind': field('involvedObject', 'kind'), 'involvedObject.namespace': field('involvedObject', 'namespace'), 'involvedObject.name': field('involvedObject', 'name'),
    'involvedObject.uid': field('involvedObject', 'uid'), 'involvedObject.apiVersion': field('involvedObject', 'apiVersion'), 'involvedObject.resourceVersion': field('involvedObject', 'resourceVersion'),
    'involvedObject.fieldPath': field('involvedObject', 'fieldPath'), reason: field('reason'), reportingComponent: field('reportingComponent'), source: field('source', 'component'), type: field('type'),
  } },
  { ...ordinary, group: '', versions: ['v1'], kind: 'Endpoints', plural: 'endpoints', singular: 'endpoints', namespaced: true, shortNames: ['ep'], schemaRef: 'io.k8s.api.core.v1.Endpoints' },
  { ...ordinary, group: '', versions: ['v1'], kind: 'Node', plural: 'nodes', singular: 'node', namespaced: false, shortNames: ['no'], statusSubresource: true, schemaRef: 'io.k8s.api.core.v1.Node', fieldSelectors: { 'spec.unschedulable': field('spec', 'unschedulable') } },
  { ...ordinary, group: '', versions: ['v1'], kind: 'Pod', plural: 'pods', singular: 'pod', namespaced: true, shortNames: ['po'], categories: ['all'], statusSubresource: true, schemaRef: 'io.k8s.api.core.v1.Pod', fieldSelectors: {
    'spec.nodeName': field('spec', 'nodeName'), 'spec.restartPolicy': field('spec', 'restartPolicy'), 'spec.schedulerName': field('spec', 'schedulerName'),
    'spec.serviceAccountName': field('spec', 'serviceAccountName'), 'spec.hostNetwork': field('spec', 'hostNetwork'), 'status.phase': field('status', 'phase'),
    'status.podIP': field('status', 'podIP'), 'status.nominatedNodeName': field('status', 'nominatedNodeName'),
  } },
  // apps/v1
  { ...workload, group: 'apps', versions: ['v1'], kind: 'Deployment', plural: 'deployments', singular: 'deployment', namespaced: true, shortNames: ['deploy'], categories: ['all'], scaleSubresource: replicasScale, schemaRef: 'io.k8s.api.apps.v1.Deployment' },
  { ...workload, group: 'apps', versions: ['v1'], kind: 'StatefulSet', plural: 'statefulsets', singular: 'statefulset', namespaced: true, shortNames: ['sts'], categories: ['all'], scaleSubresource: replicasScale, schemaRef: 'io.k8s.api.apps.v1.StatefulSet' },
  { ...workload, group: 'apps', versions: ['v1'], kind: 'DaemonSet', plural: 'daemonsets', singular: 'daemonset', namespaced: true, shortNames: ['ds'], categories: ['all'], schemaRef: 'io.k8s.api.apps.v1.DaemonSet' },
  { ...workload, group: 'apps', versions: ['v1'], kind: 'ReplicaSet', plural: 'replicasets', singular: 'replicaset', namespaced: true, shortNames: ['rs'], categories: ['all'], scaleSubresource: replicasScale, schemaRef: 'io.k8s.api.apps.v1.ReplicaSet' },
  // batch/v1
  { ...workload, group: 'batch', versions: ['v1'], kind: 'Job', plural: 'jobs', singular: 'job', namespaced: true, categories: ['all'], schemaRef: 'io.k8s.api.batch.v1.Job', fieldSelectors: { 'status.successful': field('status', 'succeeded') } },
  { ...workload, group: 'batch', versions: ['v1'], kind: 'CronJob', plural: 'cronjobs', singular: 'cronjob', namespaced: true, shortNames: ['cj'], categories: ['all'], schemaRef: 'io.k8s.api.batch.v1.CronJob' },
  // coordination.k8s.io/v1
  { ...ordinary, group: 'coordination.k8s.io', versions: ['v1'], kind: 'Lease', plural: 'leases', singular: 'lease', namespaced: true, schemaRef: 'io.k8s.api.coordination.v1.Lease' },
  // events.k8s.io/v1
  { ...ordinary, group: 'events.k8s.io', versions: ['v1'], kind: 'Event', plural: 'events', singular: 'event', namespaced: true, shortNames: ['ev'], schemaRef: 'io.k8s.api.events.v1.Event' },
  // apiextensions.k8s.io/v1
  { ...ordinary, group: 'apiextensions.k8s.io', versions: ['v1'], kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions', singular: 'customresourcedefinition', namespaced: false, shortNames: ['crd', 'crds'], categories: ['api-extensions'], statusSubresource: true, tracksGeneration: true, strategicMerge: false, schemaRef: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition' },
];
