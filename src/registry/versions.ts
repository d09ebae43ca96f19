import type { KubeObject } from '../api/object.js';
import { groupVersion } from './resource.js';
import type { ResourceDefinition } from './resource.js';

/**
 * One served version of a resource as a request sees it. Objects are stored once, in the storage
 * version (the definition's first); a request made at another version reads objects converted out of
 * storage and writes objects converted into it.
 */
export interface VersionView {
  readonly version: string;
  /** "group/version" (or "v1") of this version. */
  readonly apiVersion: string;
  readonly isStorage: boolean;
  /** This version's schema, when it has one. */
  readonly schemaRef: string | undefined;
  /** A stored object as this version (the same object for the storage version). */
  out(object: KubeObject): KubeObject;
  /** An object of this version as the storage version; `current` is the stored object on updates. */
  in(object: KubeObject, current: KubeObject | undefined): KubeObject;
}

export function storageVersion(def: ResourceDefinition): string {
  return def.versions[0] as string;
}

/** Views by definition and version: every request needs one, and they never change. */
const views = new WeakMap<ResourceDefinition, Map<string, VersionView>>();

export function versionView(def: ResourceDefinition, version: string): VersionView {
  let byVersion = views.get(def);
  if (!byVersion) views.set(def, (byVersion = new Map()));
  let view = byVersion.get(version);
  if (!view) byVersion.set(version, (view = makeView(def, version)));
  return view;
}

function makeView(def: ResourceDefinition, version: string): VersionView {
  const storage = storageVersion(def);
  const apiVersion = groupVersion(def.group, version);
  if (version === storage) {
    return { version, apiVersion, isStorage: true, schemaRef: def.schemaRef, out: (object) => object, in: (object) => object };
  }
  const alternate = def.alternateVersions?.[version];
  const storageApiVersion = groupVersion(def.group, storage);
  return {
    version,
    apiVersion,
    isStorage: false,
    schemaRef: alternate?.schemaRef,
    out: (object) => {
      const converted = alternate?.fromStorage ? alternate.fromStorage(object) : { ...object };
      converted.apiVersion = apiVersion;
      return converted;
    },
    in: (object, current) => {
      const converted = alternate?.toStorage ? alternate.toStorage(object, current) : { ...object };
      converted.apiVersion = storageApiVersion;
      return converted;
    },
  };
}
