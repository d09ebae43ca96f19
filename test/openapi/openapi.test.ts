import t from 'tap';
import { BUILTIN_RESOURCES } from '../../src/registry/builtin-resources.js';
import type { ResourceDefinition } from '../../src/registry/resource.js';
import { documentHash, openApiV2Document, openApiV3Document, openApiV3Index } from '../../src/openapi/documents.js';
import type { OpenApiV3Document, OperationObject } from '../../src/openapi/documents.js';
import { directRefs, loadSchemas, openApiDirectory, refName, schemaFor } from '../../src/openapi/schemas.js';
import type { SchemaObject } from '../../src/openapi/schemas.js';
import { unknownFields, validatorFor } from '../../src/openapi/validator.js';

const DEPLOYMENT = 'io.k8s.api.apps.v1.Deployment';
const served = BUILTIN_RESOURCES;

/** Every `$ref` string anywhere inside a value (keys `enum`/`default` included: they never hold refs here). */
function allRefs(value: unknown, into: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) allRefs(item, into);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') into.push(child);
      else allRefs(child, into);
    }
  }
  return into;
}

function operations(doc: OpenApiV3Document): { path: string; method: string; op: OperationObject }[] {
  const out: { path: string; method: string; op: OperationObject }[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const) {
      const op = item[method];
      if (op) out.push({ path, method, op });
    }
  }
  return out;
}

t.test('schema sources', async (t) => {
  t.match(openApiDirectory(), /openapi\/$/);
  const schemas = loadSchemas();
  t.ok(schemas.size > 200, `loaded ${schemas.size} schemas`);
  t.equal(loadSchemas(), schemas, 'cached');

  t.test('every served kind has a schema with its GVK, and a List schema', async (t) => {
    for (const def of [...served, { group: 'autoscaling', versions: ['v1'], kind: 'Scale', schemaRef: 'io.k8s.api.autoscaling.v1.Scale' }]) {
      const schema = schemaFor(def.schemaRef ?? '');
      t.ok(schema, `${def.kind}: ${def.schemaRef}`);
      t.same(schema?.['x-kubernetes-group-version-kind'], [{ group: def.group, kind: def.kind, version: def.versions[0] }], `${def.kind} GVK`);
      if (def.kind === 'Scale') continue;
      const list = schemaFor(`${def.schemaRef}List`);
      t.same(list?.['x-kubernetes-group-version-kind'], [{ group: def.group, kind: `${def.kind}List`, version: def.versions[0] }], `${def.kind}List GVK`);
      t.same(list?.required, ['items']);
    }
  });

  t.test('every $ref resolves', async (t) => {
    const missing: string[] = [];
    for (const [name, schema] of schemas) for (const ref of allRefs(schema)) if (!schemas.has(refName(ref) ?? '')) missing.push(`${name} -> ${ref}`);
    t.same(missing, []);
  });

  t.test('every schema and every field has a description and a type, $ref or int-or-string marker', async (t) => {
    const problems: string[] = [];
    for (const [name, schema] of schemas) {
      if (!schema.description) problems.push(`${name}: no description`);
      for (const [field, property] of Object.entries(schema.properties ?? {})) {
        if (!property.description) problems.push(`${name}.${field}: no description`);
        if (!property.type && !property.allOf && !property.$ref && !property['x-kubernetes-int-or-string']) problems.push(`${name}.${field}: no type`);
      }
    }
    t.same(problems, []);
  });

  t.test('kube facts that clients depend on', async (t) => {
    const podSpec = schemaFor('io.k8s.api.core.v1.PodSpec');
    const containers = podSpec?.properties?.['containers'];
    t.equal(containers?.['x-kubernetes-patch-merge-key'], 'name');
    t.equal(containers?.['x-kubernetes-patch-strategy'], 'merge');
    t.equal(containers?.['x-kubernetes-list-type'], 'map');
    t.same(containers?.['x-kubernetes-list-map-keys'], ['name']);
    t.same(podSpec?.required, ['containers']);
    t.equal(podSpec?.properties?.['volumes']?.['x-kubernetes-patch-strategy'], 'merge,retainKeys');
    const ports = schemaFor('io.k8s.api.core.v1.Container')?.properties?.['ports'];
    t.equal(ports?.['x-kubernetes-patch-merge-key'], 'containerPort');
    t.same(ports?.['x-kubernetes-list-map-keys'], ['containerPort', 'protocol']);
    const protocol = schemaFor('io.k8s.api.core.v1.ContainerPort')?.properties?.['protocol'];
    t.same(protocol?.enum, ['SCTP', 'TCP', 'UDP']);
    t.equal(protocol?.default, 'TCP');
    t.same(schemaFor('io.k8s.api.apps.v1.DeploymentSpec')?.required, ['selector', 'template']);
    t.equal(schemaFor('io.k8s.api.apps.v1.DeploymentSpec')?.properties?.['strategy']?.['x-kubernetes-patch-strategy'], 'retainKeys');
    t.equal(schemaFor('io.k8s.api.apps.v1.DeploymentSpec')?.properties?.['replicas']?.format, 'int32');
    t.equal(schemaFor('io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector')?.['x-kubernetes-map-type'], 'atomic');
    t.equal(schemaFor('io.k8s.apimachinery.pkg.util.intstr.IntOrString')?.['x-kubernetes-int-or-string'], true);
    t.equal(schemaFor('io.k8s.apimachinery.pkg.api.resource.Quantity')?.['x-kubernetes-int-or-string'], true);
    t.equal(schemaFor('io.k8s.apimachinery.pkg.apis.meta.v1.Time')?.format, 'date-time');
    t.equal(schemaFor('io.k8s.api.core.v1.Secret')?.properties?.['data']?.additionalProperties && (schemaFor('io.k8s.api.core.v1.Secret')?.properties?.['data']?.additionalProperties as SchemaObject).format, 'byte');
    const crdValidation = schemaFor('io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceValidation');
    t.equal(crdValidation?.properties?.['openAPIV3Schema']?.['x-kubernetes-preserve-unknown-fields'], true);
  });
});

t.test('OpenAPI v3', async (t) => {
  t.test('index lists every group-version with the hash of its document', async (t) => {
    const index = openApiV3Index(served);
    t.same(Object.keys(index.paths).sort(), ['api/v1', 'apis/apiextensions.k8s.io/v1', 'apis/apps/v1', 'apis/batch/v1', 'apis/coordination.k8s.io/v1', 'apis/events.k8s.io/v1']);
    const apps = openApiV3Document('apps', 'v1', served);
    t.equal(index.paths['apis/apps/v1']?.serverRelativeURL, `/openapi/v3/apis/apps/v1?hash=${documentHash(apps)}`);
    t.match(index.paths['api/v1']?.serverRelativeURL, /^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]{128}$/);
    // the server builds per-GV documents from only that GV's definitions: same document, same hash
    const onlyApps = served.filter((d) => d.group === 'apps');
    t.equal(documentHash(openApiV3Document('apps', 'v1', onlyApps)), documentHash(apps));
  });

  t.test('every group-version document is closed over its $refs', async (t) => {
    for (const key of Object.keys(openApiV3Index(served).paths)) {
      const [, a, b] = key.split('/');
      const [group, version] = key.startsWith('api/') ? ['', a ?? ''] : [a ?? '', b ?? ''];
      const doc = openApiV3Document(group, version, served);
      t.equal(doc.openapi, '3.0.0');
      const missing = allRefs(doc).filter((ref) => !doc.components.schemas[refName(ref) ?? '']);
      t.same(missing, [], `${key}: refs resolve`);
      for (const def of served.filter((d) => d.group === group)) t.ok(doc.components.schemas[def.schemaRef ?? ''], `${key} has ${def.kind}`);
      t.ok(doc.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'], `${key} has ObjectMeta`);
    }
  });

  t.test('apps/v1 paths, operations and PATCH probe', async (t) => {
    const doc = openApiV3Document('apps', 'v1', served);
    const item = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'];
    t.ok(item, 'item path');
    t.ok(doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments'], 'collection path');
    t.ok(doc.paths['/apis/apps/v1/deployments']?.get, 'all-namespaces list path');
    t.ok(doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status']?.patch, 'status subresource');
    t.ok(doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale']?.put, 'scale subresource');
    t.notOk(doc.paths['/apis/apps/v1/namespaces/{namespace}/daemonsets/{name}/scale'], 'no scale for DaemonSet');

    const patch = item?.patch;
    t.equal(patch?.operationId, 'patchAppsV1NamespacedDeployment');
    t.equal(patch?.['x-kubernetes-action'], 'patch');
    t.same(patch?.['x-kubernetes-group-version-kind'], { group: 'apps', kind: 'Deployment', version: 'v1' });
    t.ok(patch?.parameters?.some((p) => p.name === 'fieldValidation' && p.in === 'query'), 'PATCH lists fieldValidation');
    t.same(Object.keys(patch?.requestBody?.content ?? {}).sort(), ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json']);
    t.ok(item?.put?.parameters?.some((p) => p.name === 'fieldValidation'), 'PUT lists fieldValidation');
    t.ok(doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments']?.post?.parameters?.some((p) => p.name === 'fieldValidation'), 'POST lists fieldValidation');
    t.equal(item?.get?.operationId, 'readAppsV1NamespacedDeployment');
    t.equal(item?.delete?.['x-kubernetes-action'], 'delete');
    t.equal(doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments']?.delete?.['x-kubernetes-action'], 'deletecollection');
    t.equal(doc.paths['/apis/apps/v1/deployments']?.get?.operationId, 'listAppsV1DeploymentForAllNamespaces');
    const scale = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale']?.get;
    t.same(scale?.['x-kubernetes-group-version-kind'], { group: 'autoscaling', kind: 'Scale', version: 'v1' });
    t.ok(doc.components.schemas['io.k8s.api.autoscaling.v1.Scale'], 'Scale schema included');

    const actions = new Set(operations(doc).map((o) => o.op['x-kubernetes-action']).filter(Boolean));
    t.same([...actions].sort(), ['delete', 'deletecollection', 'get', 'list', 'patch', 'post', 'put']);
    const ids = operations(doc).map((o) => o.op.operationId);
    t.equal(new Set(ids).size, ids.length, 'operation IDs are unique');
    for (const { path, method, op } of operations(doc)) {
      if (op.operationId.endsWith('APIResources')) continue;
      t.ok(op['x-kubernetes-group-version-kind'], `${method} ${path} has a GVK`);
    }
  });

  t.test('core/v1 uses legacy paths; cluster-scoped kinds have no namespace segment', async (t) => {
    const doc = openApiV3Document('', 'v1', served);
    t.ok(doc.paths['/api/v1/namespaces/{namespace}/configmaps/{name}']?.patch, 'configmap item');
    t.equal(doc.paths['/api/v1/configmaps']?.get?.operationId, 'listCoreV1ConfigMapForAllNamespaces');
    t.equal(doc.paths['/api/v1/nodes/{name}']?.get?.operationId, 'readCoreV1Node');
    t.equal(doc.paths['/api/v1/namespaces/{name}']?.get?.operationId, 'readCoreV1Namespace');
    t.equal(doc.paths['/api/v1/namespaces/{name}/finalize']?.put?.operationId, 'replaceCoreV1NamespaceFinalize');
    t.notOk(doc.paths['/api/v1/namespaces']?.delete, 'namespaces have no deletecollection');
    t.equal(doc.paths['/api/v1/']?.get?.operationId, 'getCoreV1APIResources');
  });

  t.test('strategic merge patch only where the kind supports it', async (t) => {
    const crdDoc = openApiV3Document('apiextensions.k8s.io', 'v1', served);
    const crdPatch = crdDoc.paths['/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}']?.patch;
    t.ok(crdPatch?.parameters?.some((p) => p.name === 'fieldValidation'));
    t.notOk(crdPatch?.requestBody?.content['application/strategic-merge-patch+json'], 'CRDs (built-in, strategicMerge: false) have no SMP');

    const widget: ResourceDefinition = {
      group: 'example.com', versions: ['v1'], kind: 'Widget', plural: 'widgets', singular: 'widget', namespaced: true,
      verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'], tracksGeneration: true, strategicMerge: false,
      statusSubresource: true, scaleSubresource: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' },
      schemaRef: 'com.example.v1.Widget', fromCrd: 'widgets.example.com',
    };
    const extra = new Map<string, SchemaObject>([['com.example.v1.Widget', {
      description: 'A widget.', type: 'object',
      properties: {
        apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' },
        spec: { type: 'object', properties: { replicas: { type: 'integer' }, size: { 'x-kubernetes-int-or-string': true } }, required: ['replicas'] },
        status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      },
      'x-kubernetes-group-version-kind': [{ group: 'example.com', kind: 'Widget', version: 'v1' }],
    }]]);
    const doc = openApiV3Document('example.com', 'v1', [...served, widget], extra);
    const patch = doc.paths['/apis/example.com/v1/namespaces/{namespace}/widgets/{name}']?.patch;
    t.equal(patch?.operationId, 'patchExampleComV1NamespacedWidget');
    t.ok(patch?.parameters?.some((p) => p.name === 'fieldValidation'));
    t.same(Object.keys(patch?.requestBody?.content ?? {}).sort(), ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json']);
    t.ok(doc.components.schemas['com.example.v1.Widget'], 'runtime schema included');
    t.ok(doc.components.schemas['com.example.v1.WidgetList'], 'list schema synthesised');
    t.ok(doc.components.schemas['io.k8s.api.autoscaling.v1.Scale'], 'Scale for the scale subresource');
    t.same(allRefs(doc).filter((ref) => !doc.components.schemas[refName(ref) ?? '']), []);
    t.same(Object.keys(openApiV3Index([...served, widget], extra).paths).filter((k) => k.includes('example.com')), ['apis/example.com/v1']);

    // validation and unknown fields against the runtime schema
    const validate = validatorFor('com.example.v1.Widget', { extraSchemas: extra });
    t.same(validate({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { replicas: 2, size: '10%' }, status: { anything: [1] } }).errors, []);
    t.same(validate({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 1.5 } }).errors.map((e) => [e.kind, e.path]), [['required', 'spec.replicas'], ['type', 'spec.size']]);
    t.same(unknownFields({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: {}, spec: { replicas: 1, colour: 'red' }, status: { x: 1 } }, 'com.example.v1.Widget', extra), ['spec.colour']);

    // a custom resource without a schema still gets paths and a permissive schema
    const gadget: ResourceDefinition = { ...widget, kind: 'Gadget', plural: 'gadgets', singular: 'gadget', schemaRef: undefined as unknown as string, fromCrd: 'gadgets.example.com' };
    delete (gadget as { schemaRef?: string }).schemaRef;
    const bare = openApiV3Document('example.com', 'v1', [gadget]);
    t.equal(bare.components.schemas['com.example.v1.Gadget']?.['x-kubernetes-preserve-unknown-fields'], true);
    t.ok(bare.paths['/apis/example.com/v1/namespaces/{namespace}/gadgets/{name}']?.patch);
  });
});

t.test('OpenAPI v2 (Swagger 2.0, JSON)', async (t) => {
  const doc = openApiV2Document(served);
  const text = JSON.stringify(doc);
  const parsed = JSON.parse(text) as typeof doc;
  t.equal(parsed.swagger, '2.0');
  t.notMatch(text, /#\/components\/schemas\//, 'no OpenAPI 3 references left');
  const definitions = parsed.definitions as Record<string, SchemaObject>;
  const deployment = definitions[DEPLOYMENT];
  t.same(deployment?.['x-kubernetes-group-version-kind'], [{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
  t.equal((deployment?.properties?.['spec'] as SchemaObject | undefined)?.$ref, '#/definitions/io.k8s.api.apps.v1.DeploymentSpec', 'allOf wrapper unwrapped to $ref');
  t.equal(definitions['io.k8s.api.core.v1.PodSpec']?.properties?.['containers']?.['x-kubernetes-patch-merge-key'], 'name');
  const missing = allRefs(parsed).filter((ref) => !definitions[ref.replace('#/definitions/', '')]);
  t.same(missing, [], 'every #/definitions ref resolves');
  for (const def of served) t.ok(definitions[def.schemaRef ?? ''], `${def.kind} defined`);

  const patch = parsed.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}']?.['patch'] as Record<string, unknown> | undefined;
  t.equal(patch?.['x-kubernetes-action'], 'patch');
  t.ok((patch?.['parameters'] as { name: string; in: string }[]).some((p) => p.name === 'fieldValidation' && p.in === 'query'));
  t.ok((patch?.['parameters'] as { name: string; in: string }[]).some((p) => p.name === 'body' && p.in === 'body'));
  t.ok((patch?.['consumes'] as string[]).includes('application/strategic-merge-patch+json'));
  const crdPatch = parsed.paths['/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}']?.['patch'] as Record<string, unknown> | undefined;
  t.notOk((crdPatch?.['consumes'] as string[]).includes('application/strategic-merge-patch+json'));
  t.ok(parsed.paths['/api/v1/namespaces/{namespace}/pods/{name}/status'], 'core paths present');
  t.ok(text.length > 100_000, `v2 document is ${text.length} bytes`);
});

// ------------------------------------------------------------------------------------------------------------------
// Validation of realistic manifests

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', creationTimestamp: null, labels: { app: 'web' }, annotations: { 'deployment.kubernetes.io/revision': '1' } },
  spec: {
    replicas: 3,
    revisionHistoryLimit: 5,
    selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['frontend'] }] },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
    template: {
      metadata: { creationTimestamp: null, labels: { app: 'web', tier: 'frontend' } },
      spec: {
        serviceAccountName: 'web',
        nodeSelector: { 'kubernetes.io/os': 'linux' },
        securityContext: { runAsNonRoot: true, fsGroup: 2000, seccompProfile: { type: 'RuntimeDefault' } },
        affinity: {
          podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'web' } } } }] },
          nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'disktype', operator: 'In', values: ['ssd'] }] }] } },
        },
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' }, { operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: 'web' } } }],
        initContainers: [{ name: 'migrate', image: 'busybox:1.36', command: ['sh', '-c', 'echo migrate'] }],
        containers: [{
          name: 'nginx',
          image: 'nginx:1.27',
          imagePullPolicy: 'IfNotPresent',
          args: ['-g', 'daemon off;'],
          ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }],
          env: [
            { name: 'MODE', value: 'production' },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password', optional: false } } },
            { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'web-config', key: 'level' } } },
            { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
          ],
          envFrom: [{ configMapRef: { name: 'web-config' } }, { prefix: 'DB_', secretRef: { name: 'db' } }],
          resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: 1, memory: '128Mi', 'ephemeral-storage': '1Gi' } },
          volumeMounts: [{ name: 'config', mountPath: '/etc/nginx/conf.d', readOnly: true }, { name: 'cache', mountPath: '/var/cache/nginx' }, { name: 'tokens', mountPath: '/var/run/tokens' }],
          livenessProbe: { httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP', httpHeaders: [{ name: 'X-Probe', value: '1' }] }, initialDelaySeconds: 5, periodSeconds: 10 },
          readinessProbe: { tcpSocket: { port: 80 }, failureThreshold: 3 },
          startupProbe: { exec: { command: ['cat', '/tmp/ready'] }, failureThreshold: 30 },
          lifecycle: { preStop: { exec: { command: ['nginx', '-s', 'quit'] } }, postStart: { sleep: { seconds: 1 } } },
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] }, runAsUser: 101 },
        }],
        volumes: [
          { name: 'config', configMap: { name: 'web-config', defaultMode: 420, items: [{ key: 'nginx.conf', path: 'default.conf' }] } },
          { name: 'cache', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
          { name: 'secret', secret: { secretName: 'db', optional: true } },
          { name: 'host', hostPath: { path: '/var/log', type: 'Directory' } },
          { name: 'data', persistentVolumeClaim: { claimName: 'data', readOnly: false } },
          { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
          { name: 'tokens', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600, audience: 'api' } }, { configMap: { name: 'ca' } }] } },
          { name: 'legacy', rbd: { monitors: ['10.0.0.1:6789'], image: 'foo', pool: 'kube' } },
        ],
        dnsPolicy: 'ClusterFirst',
        restartPolicy: 'Always',
        terminationGracePeriodSeconds: 30,
        imagePullSecrets: [{ name: 'registry' }],
      },
    },
  },
  status: {},
};

const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: {
    type: 'LoadBalancer',
    selector: { app: 'web' },
    ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }, { name: 'metrics', port: 9090, targetPort: 9090, nodePort: 30090 }],
    sessionAffinity: 'ClientIP',
    sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
    externalTrafficPolicy: 'Local',
    ipFamilyPolicy: 'SingleStack',
    ipFamilies: ['IPv4'],
    loadBalancerSourceRanges: ['10.0.0.0/8'],
  },
  status: { loadBalancer: { ingress: [{ ip: '192.0.2.10', ipMode: 'VIP' }] } },
};

const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'debug', namespace: 'default', uid: '4b1c0c5e-5c76-4a1f-9d32-8c2d6e7f1a00', resourceVersion: '12345', generation: 1,
    creationTimestamp: '2024-05-01T10:00:00Z',
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: '0f0a6a4e-0000-4000-8000-000000000001', controller: true, blockOwnerDeletion: true }],
    finalizers: ['example.com/cleanup'],
    managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'v1', time: '2024-05-01T10:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:run': {} } } } }],
  },
  spec: {
    containers: [{ name: 'shell', image: 'busybox', command: ['sleep', '3600'], stdin: true, tty: true, resources: {} }],
    restartPolicy: 'Never',
    hostAliases: [{ ip: '127.0.0.1', hostnames: ['foo.local'] }],
    dnsConfig: { nameservers: ['1.1.1.1'], options: [{ name: 'ndots', value: '2' }] },
    os: { name: 'linux' },
    priority: 0,
    enableServiceLinks: true,
  },
  status: {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2024-05-01T10:00:05Z' }],
    hostIP: '10.0.0.5', podIP: '10.244.1.7', podIPs: [{ ip: '10.244.1.7' }], startTime: '2024-05-01T10:00:00Z', qosClass: 'BestEffort',
    containerStatuses: [{ name: 'shell', ready: true, restartCount: 0, image: 'busybox:latest', imageID: 'docker.io/library/busybox@sha256:abc', containerID: 'containerd://abc', started: true, state: { running: { startedAt: '2024-05-01T10:00:03Z' } } }],
  },
};

const cronJob = {
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: { name: 'report' },
  spec: {
    schedule: '*/5 * * * *',
    timeZone: 'Etc/UTC',
    concurrencyPolicy: 'Forbid',
    startingDeadlineSeconds: 60,
    successfulJobsHistoryLimit: 3,
    failedJobsHistoryLimit: 1,
    jobTemplate: {
      metadata: { labels: { job: 'report' } },
      spec: {
        backoffLimit: 2,
        ttlSecondsAfterFinished: 600,
        completions: 1,
        parallelism: 1,
        podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }, { action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } }] },
        template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'report', image: 'alpine', command: ['date'] }] } },
      },
    },
  },
};

const configMap = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'web-config', namespace: 'default' },
  data: { level: 'info', 'nginx.conf': 'server { listen 80; }\n' },
  binaryData: { 'logo.png': 'iVBORw0KGgo=' },
  immutable: false,
};

const statefulSet = {
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'db' },
  spec: {
    serviceName: 'db',
    replicas: 3,
    podManagementPolicy: 'Parallel',
    selector: { matchLabels: { app: 'db' } },
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
    persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' },
    template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'pg', image: 'postgres:16', volumeMounts: [{ name: 'data', mountPath: '/var/lib/postgresql/data' }] }] } },
    volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'fast', resources: { requests: { storage: '10Gi' } } }, status: { phase: 'Pending' } }],
  },
};

const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, type: 'Opaque', data: { password: 'c2VjcmV0' }, stringData: { user: 'admin' } };

const manifests: [string, string, unknown][] = [
  ['Deployment', 'io.k8s.api.apps.v1.Deployment', deployment],
  ['Service', 'io.k8s.api.core.v1.Service', service],
  ['Pod', 'io.k8s.api.core.v1.Pod', pod],
  ['CronJob', 'io.k8s.api.batch.v1.CronJob', cronJob],
  ['ConfigMap', 'io.k8s.api.core.v1.ConfigMap', configMap],
  ['StatefulSet', 'io.k8s.api.apps.v1.StatefulSet', statefulSet],
  ['Secret', 'io.k8s.api.core.v1.Secret', secret],
];

t.test('realistic manifests validate cleanly', async (t) => {
  for (const [kind, ref, manifest] of manifests) {
    t.same(validatorFor(ref)(manifest).errors, [], `${kind}: no validation errors`);
    t.same(unknownFields(manifest, ref), [], `${kind}: no unknown fields`);
    t.same(validatorFor(ref, { reportUnknown: true })(manifest).errors, [], `${kind}: clean with reportUnknown`);
  }
});

t.test('unknown fields', async (t) => {
  const typo = structuredClone(deployment) as Record<string, any>;
  typo['spec']['replica'] = 3;
  typo['spec']['template']['spec']['containers'][0]['imagePullPolcy'] = 'Always';
  typo['metadata']['labelz'] = { a: 'b' };
  // in the order the fields appear in the object, as kube's strict decoder reports them
  t.same(unknownFields(typo, DEPLOYMENT), ['metadata.labelz', 'spec.template.spec.containers[0].imagePullPolcy', 'spec.replica']);
  const errors = validatorFor(DEPLOYMENT, { reportUnknown: true })(typo).errors;
  t.same(errors.filter((e) => e.kind === 'unknown').sort((a, b) => (a.path < b.path ? -1 : 1)), [
    { path: 'metadata.labelz', message: 'unknown field "metadata.labelz"', kind: 'unknown' },
    { path: 'spec.replica', message: 'unknown field "spec.replica"', kind: 'unknown' },
    { path: 'spec.template.spec.containers[0].imagePullPolcy', message: 'unknown field "spec.template.spec.containers[0].imagePullPolcy"', kind: 'unknown' },
  ]);
  t.same(validatorFor(DEPLOYMENT)(typo).errors, [], 'unknown fields are not errors unless asked for');
  // apiVersion/kind are always known; preserved and free-form subtrees accept anything
  t.same(unknownFields({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', managedFields: [{ fieldsV1: { 'f:spec': { 'f:x': {} } } }] }, spec: { containers: [], volumes: [{ name: 'v', cephfs: { anything: true } }] } }, 'io.k8s.api.core.v1.Pod'), []);
  t.same(unknownFields({ kind: 'WatchEvent', type: 'ADDED', object: { whatever: 1 } }, 'io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent'), []);
});

t.test('type, required and enum errors carry kube field paths', async (t) => {
  const bad = structuredClone(deployment) as Record<string, any>;
  bad['spec']['replicas'] = 'three';
  t.same(validatorFor(DEPLOYMENT)(bad).errors, [{ path: 'spec.replicas', message: 'Invalid value: "string": spec.replicas in body must be of type integer: "string"', kind: 'type' }]);

  const worse = structuredClone(deployment) as Record<string, any>;
  delete worse['spec']['template']['spec']['containers'][0]['name'];
  worse['spec']['template']['spec']['containers'][0]['imagePullPolicy'] = 'Sometimes';
  worse['spec']['template']['spec']['containers'][0]['ports'][0]['containerPort'] = 4_294_967_296;
  worse['metadata']['labels']['app'] = 7;
  worse['metadata']['creationTimestamp'] = 'yesterday';
  worse['spec']['strategy']['rollingUpdate']['maxSurge'] = true;
  delete worse['spec']['selector'];
  const errors = validatorFor(DEPLOYMENT)(worse).errors.map((e) => `${e.kind} ${e.path}`).sort();
  t.same(errors, [
    'enum spec.template.spec.containers[0].imagePullPolicy',
    'required spec.selector',
    'required spec.template.spec.containers[0].name',
    'type metadata.creationTimestamp',
    'type metadata.labels[app]',
    'type spec.strategy.rollingUpdate.maxSurge',
    'type spec.template.spec.containers[0].ports[0].containerPort',
  ]);
  const enumError = validatorFor(DEPLOYMENT)(worse).errors.find((e) => e.kind === 'enum');
  t.equal(enumError?.message, 'Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"');
  t.equal(validatorFor(DEPLOYMENT)(worse).errors.find((e) => e.kind === 'required')?.message, 'Required value');

  // int-or-string and quantities
  const v = validatorFor('io.k8s.api.core.v1.ResourceRequirements');
  t.same(v({ limits: { cpu: 0.5, memory: 1024 }, requests: { cpu: '100m' } }).errors, []);
  t.equal(v({ limits: { cpu: [1] } }).errors[0]?.path, 'limits[cpu]');
  const probe = validatorFor('io.k8s.api.core.v1.HTTPGetAction');
  t.same(probe({ port: 8080 }).errors, []);
  t.same(probe({ port: 'http' }).errors, []);
  t.same(probe({ port: 1.5 }).errors.map((e) => e.kind), ['type']);
  // byte format
  const cm = validatorFor('io.k8s.api.core.v1.ConfigMap');
  t.same(cm({ metadata: {}, binaryData: { x: 'not base64!' } }).errors.map((e) => `${e.kind} ${e.path}`), ['type binaryData[x]']);
  // unknown schema names validate nothing
  t.same(validatorFor('com.example.v1.Nothing')({ anything: 1 }).errors, []);
  t.same(unknownFields({ anything: 1 }, 'com.example.v1.Nothing'), []);
  t.ok(directRefs(schemaFor(DEPLOYMENT)).has('io.k8s.api.apps.v1.DeploymentSpec'));
});
