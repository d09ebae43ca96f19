import type { KubeObject } from '../api/object.js';

/**
 * A resource is data: this one declaration drives routing, discovery, OpenAPI, validation, Table
 * output and storage keys. Built-in kinds, Karmada kinds and CRDs all become ResourceDefinitions;
 * only kinds with real semantics of their own add a strategy (registry/strategies/).
 */
export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export const ALL_VERBS: readonly Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export interface PrinterColumn {
  /** Column header as kubectl shows it, e.g. "Ready" (kubectl upper-cases it). */
  readonly name: string;
  readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  readonly format?: string;
  readonly description: string;
  /** 0 = shown by default, >0 only with -o wide. */
  readonly priority: number;
  /** For declared (CRD / Karmada) columns: a kube JSONPath into the object, e.g. ".status.replicas". */
  readonly jsonPath?: string;
}

export interface ScaleSubresource {
  /** JSON paths as in CRD scale subresources: ".spec.replicas", ".status.replicas", ".status.selector". */
  readonly specReplicasPath: string;
  readonly statusReplicasPath: string;
  readonly labelSelectorPath?: string;
}

export interface ResourceDefinition {
  /** API group, "" for the core group. */
  readonly group: string;
  /** Served versions, preferred (and storage) version first. */
  readonly versions: readonly string[];
  readonly kind: string;
  /** Lower-case plural: the URL segment and RBAC resource, e.g. "deployments". */
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
  readonly verbs: readonly Verb[];
  /** A `status` subresource: the main resource ignores .status, /status ignores everything else. */
  readonly statusSubresource?: boolean;
  readonly scaleSubresource?: ScaleSubresource;
  /** Extra subresources served by dedicated handlers, e.g. "proxy" for clusters. */
  readonly otherSubresources?: readonly string[];
  /** Whether metadata.generation tracks spec changes (kinds with a spec). */
  readonly tracksGeneration: boolean;
  /** Whether strategic merge patch applies (built-in kinds only; CRs answer 415). */
  readonly strategicMerge: boolean;
  /** Field selectors beyond metadata.name / metadata.namespace, with how to read each from an object. */
  readonly fieldSelectors?: Readonly<Record<string, (object: KubeObject) => string | undefined>>;
  /** Table columns after Name, exactly as declared (declare Age yourself, as CRDs do); absent = Name + Age. */
  readonly printerColumns?: readonly PrinterColumn[];
  /** Schema reference in openapi/: the component name of the kind's schema, e.g. "io.k8s.api.apps.v1.Deployment". */
  readonly schemaRef?: string;
  /**
   * Served with a CRD's semantics though declared here (Karmada's policy and work kinds are CRDs
   * upstream): the schema's `default:` values apply on writes and type errors are 422 Invalid, not 400.
   */
  readonly crdSemantics?: boolean;
  /** Set for custom resources: the CRD's name, whose deletion removes this resource. */
  readonly fromCrd?: string;
  /**
   * Served versions other than the storage version (versions[0]), by name: their schema and how an
   * object converts. A version not listed here differs from storage only in its apiVersion (a CRD's
   * conversion strategy None).
   */
  readonly alternateVersions?: Readonly<Record<string, AlternateVersion>>;
}

/** A served, non-storage version of a resource. Objects are stored once, in the storage version. */
export interface AlternateVersion {
  /** Component name of this version's schema in openapi/ (or a runtime schema). */
  readonly schemaRef?: string;
  /** The stored object as this version. Must not modify its input. */
  readonly fromStorage?: (object: KubeObject) => KubeObject;
  /** An object of this version for storage; `current` is the stored object on updates. Must not modify its inputs. */
  readonly toStorage?: (object: KubeObject, current: KubeObject | undefined) => KubeObject;
}

/** "apps/v1", or "v1" for the core group. */
export function groupVersion(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

/** Storage key prefix of a resource: /registry/<group or "core">/<plural>/ */
export function keyPrefix(def: Pick<ResourceDefinition, 'group' | 'plural'>): string {
  return `/registry/${def.group || 'core'}/${def.plural}/`;
}

export function objectKey(def: Pick<ResourceDefinition, 'group' | 'plural' | 'namespaced'>, namespace: string | undefined, name: string): string {
  return def.namespaced ? `${keyPrefix(def)}${namespace ?? ''}/${name}` : `${keyPrefix(def)}${name}`;
}
