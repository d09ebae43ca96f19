import { isPlainObject } from '../../api/object.js';
import type { KubeObject } from '../../api/object.js';
import { cause } from '../../api/status.js';
import type { StatusCause } from '../../api/status.js';
import type { SchemaObject } from '../../openapi/schemas.js';
import { ALL_VERBS } from '../resource.js';
import type { PrinterColumn, ResourceDefinition } from '../resource.js';

/**
 * A CustomResourceDefinition (apiextensions.k8s.io/v1) as data: the ResourceDefinition that serves
 * its custom resources, and the OpenAPI schema of each served version.
 */
interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema?: { openAPIV3Schema?: SchemaObject };
  subresources?: { status?: object; scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string } };
  additionalPrinterColumns?: { name: string; type: string; format?: string; description?: string; priority?: number; jsonPath: string }[];
}

interface CrdSpec {
  group: string;
  scope: 'Namespaced' | 'Cluster';
  names: { plural: string; singular?: string; kind: string; listKind?: string; shortNames?: string[]; categories?: string[] };
  versions: CrdVersion[];
}

export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

/** Name of the runtime schema of one served version of a custom resource. */
export const crdSchemaName = (group: string, version: string, kind: string): string => `crd.${group}.${version}.${kind}`;

const specOf = (crd: KubeObject): CrdSpec => crd['spec'] as CrdSpec;

/** The definition serving a (valid) CRD; the storage version is listed first. */
export function definitionFromCrd(crd: KubeObject): ResourceDefinition {
  const spec = specOf(crd);
  const served = spec.versions.filter((v) => v.served);
  const ordered = [...served.filter((v) => v.storage), ...served.filter((v) => !v.storage)];
  const preferred = ordered[0] as CrdVersion;
  const columns: PrinterColumn[] | undefined = preferred.additionalPrinterColumns?.map((c) => ({
    name: c.name,
    type: (['string', 'integer', 'number', 'boolean', 'date'].includes(c.type) ? c.type : 'string') as PrinterColumn['type'],
    ...(c.format ? { format: c.format } : {}),
    description: c.description ?? '',
    priority: c.priority ?? 0,
    jsonPath: c.jsonPath,
  }));
  return {
    group: spec.group,
    versions: ordered.map((v) => v.name),
    kind: spec.names.kind,
    plural: spec.names.plural,
    singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
    namespaced: spec.scope === 'Namespaced',
    ...(spec.names.shortNames?.length ? { shortNames: spec.names.shortNames } : {}),
    ...(spec.names.categories?.length ? { categories: spec.names.categories } : {}),
    verbs: ALL_VERBS,
    ...(preferred.subresources?.status ? { statusSubresource: true } : {}),
    ...(preferred.subresources?.scale ? { scaleSubresource: preferred.subresources.scale } : {}),
    tracksGeneration: true,
    strategicMerge: false,
    ...(columns ? { printerColumns: columns } : {}),
    schemaRef: crdSchemaName(spec.group, preferred.name, spec.names.kind),
    fromCrd: crd.metadata.name as string,
    // Conversion strategy None: other versions differ only in apiVersion, each with its own schema.
    ...(ordered.length > 1 ? { alternateVersions: Object.fromEntries(ordered.slice(1).map((v) => [v.name, { schemaRef: crdSchemaName(spec.group, v.name, spec.names.kind) }])) } : {}),
  };
}

/** One runtime schema per served version: the CRD's schema plus apiVersion, kind and ObjectMeta. */
export function schemasFromCrd(crd: KubeObject): Map<string, SchemaObject> {
  const spec = specOf(crd);
  const out = new Map<string, SchemaObject>();
  for (const version of spec.versions.filter((v) => v.served)) {
    const declared = version.schema?.openAPIV3Schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    const { properties, ...rest } = declared;
    out.set(crdSchemaName(spec.group, version.name, spec.names.kind), {
      ...rest,
      type: 'object',
      properties: {
        ...(properties ?? {}),
        apiVersion: { type: 'string', description: 'The versioned schema of this object.' },
        kind: { type: 'string', description: 'The REST resource this object represents.' },
        metadata: { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' },
      },
      'x-kubernetes-group-version-kind': [{ group: spec.group, version: version.name, kind: spec.names.kind }],
    });
  }
  return out;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const KIND = /^[A-Za-z][A-Za-z0-9]*$/;

/** apiextensions' validation of a CRD, with kube's field paths. */
export function validateCrd(crd: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = crd['spec'];
  if (!isPlainObject(spec)) return [cause.required('spec')];
  const group = spec['group'];
  const names = isPlainObject(spec['names']) ? spec['names'] : undefined;
  if (typeof group !== 'string' || !group) causes.push(cause.required('spec.group'));
  else if (!DNS_SUBDOMAIN.test(group) || !group.includes('.')) causes.push(cause.invalid('spec.group', group, 'should be a domain with at least one dot'));
  if (!names) {
    causes.push(cause.required('spec.names'));
  } else {
    const plural = names['plural'];
    if (typeof plural !== 'string' || !plural) causes.push(cause.required('spec.names.plural'));
    else if (!DNS_LABEL.test(plural)) causes.push(cause.invalid('spec.names.plural', plural, 'a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\''));
    if (typeof names['kind'] !== 'string' || !names['kind']) causes.push(cause.required('spec.names.kind'));
    else if (!KIND.test(names['kind'])) causes.push(cause.invalid('spec.names.kind', names['kind'], 'must be a valid kind name'));
    if (names['singular'] !== undefined && (typeof names['singular'] !== 'string' || !DNS_LABEL.test(names['singular']))) causes.push(cause.invalid('spec.names.singular', names['singular'], 'must be a lowercase RFC 1123 label'));
    if (typeof plural === 'string' && typeof group === 'string' && crd.metadata.name !== `${plural}.${group}`) {
      causes.push(cause.invalid('metadata.name', crd.metadata.name, 'must be spec.names.plural+"."+spec.group'));
    }
  }
  if (spec['scope'] !== 'Namespaced' && spec['scope'] !== 'Cluster') causes.push(cause.notSupported('spec.scope', spec['scope'], ['Cluster', 'Namespaced']));
  const versions = spec['versions'];
  if (!Array.isArray(versions) || versions.length === 0) {
    causes.push(cause.required('spec.versions', 'must have at least one version'));
    return causes;
  }
  const seen = new Set<string>();
  let storage = 0;
  versions.forEach((version, i) => {
    const path = `spec.versions[${i}]`;
    if (!isPlainObject(version)) return causes.push(cause.typeInvalid(path, version, 'must be an object'));
    const name = version['name'];
    if (typeof name !== 'string' || !DNS_LABEL.test(name)) causes.push(cause.invalid(`${path}.name`, name, 'must be a DNS label'));
    else if (seen.has(name)) causes.push(cause.duplicate(`${path}.name`, name));
    else seen.add(name);
    if (typeof version['served'] !== 'boolean') causes.push(cause.required(`${path}.served`));
    if (typeof version['storage'] !== 'boolean') causes.push(cause.required(`${path}.storage`));
    if (version['storage'] === true) storage++;
    const schema = isPlainObject(version['schema']) ? version['schema']['openAPIV3Schema'] : undefined;
    if (schema === undefined) causes.push(cause.required(`${path}.schema.openAPIV3Schema`, 'schemas are required'));
    else if (!isPlainObject(schema) || (schema['type'] !== 'object' && schema['x-kubernetes-preserve-unknown-fields'] !== true)) {
      causes.push(cause.invalid(`${path}.schema.openAPIV3Schema.type`, isPlainObject(schema) ? schema['type'] : schema, 'must be object at the root'));
    }
    return undefined;
  });
  if (storage !== 1) causes.push(cause.invalid('spec.versions', storage, 'must have exactly one version marked as storage version'));
  if (!versions.some((v) => isPlainObject(v) && v['served'] === true)) causes.push(cause.invalid('spec.versions', 'none served', 'must have at least one served version'));
  return causes;
}
