import type { KubeObject } from '../../api/object.js';
import type { StatusCause } from '../../api/status.js';

/**
 * What a kind does differently from the generic store. Every hook is optional; a kind without a
 * strategy is plain data (ConfigMap, Lease, most custom resources).
 */
export interface Strategy {
  /** Kubernetes defaulting (runs on create and update, as kube defaults on every decode). */
  defaults?(object: KubeObject): void;
  /** Reset what a client may not set on create (e.g. status). */
  prepareForCreate?(object: KubeObject): void;
  /** Carry over or reset fields on update. */
  prepareForUpdate?(object: KubeObject, old: KubeObject): void;
  /** Kind-specific validation beyond the schema. */
  validate?(object: KubeObject, old: KubeObject | undefined): StatusCause[];
  /** Finalizer-like blockers outside metadata.finalizers (a Namespace's spec.finalizers). */
  extraFinalizers?(object: KubeObject): readonly string[];
  /** Mutations when graceful deletion starts (a Namespace turns Terminating). */
  beginDeletion?(object: KubeObject): void;
  /**
   * What a /status write sets besides the status. Absent: nothing (kube's rule for custom resources).
   * 'metadata': the metadata too (kube's ReplicaSet status strategy resets only the spec);
   * 'metadata-but-labels': the metadata except labels (kube's Deployment status strategy, which the
   * deployment controller relies on to write the revision annotation and the status in one update).
   */
  readonly statusWriteAlsoSets?: 'metadata' | 'metadata-but-labels';
  /** Name rule: 'subdomain' (default), 'label' (RFC 1123 label) or 'label1035' (RFC 1035 label). */
  readonly nameRule?: 'subdomain' | 'label' | 'label1035';
}
