import type { KubeObject } from '../api/object.js';
import type { Informer } from './informer.js';
import { objectKey } from './informer.js';

/**
 * A secondary index over an informer's cache (client-go's Indexer): index values computed from
 * each object map to the cache keys of the objects that have them. Only keys are held; objects are
 * looked up in the informer's cache, so the index costs a string reference per (object, value).
 * The index is maintained by informer handlers, so it must be created before the informer starts.
 */
export class CacheIndex {
  private readonly informer: Informer;
  private readonly indexFn: (object: KubeObject) => readonly string[];
  private readonly byValue = new Map<string, Set<string>>();

  constructor(informer: Informer, indexFn: (object: KubeObject) => readonly string[]) {
    this.informer = informer;
    this.indexFn = indexFn;
    informer.addHandlers({
      onAdd: (object) => this.update(undefined, object),
      onUpdate: (old, object) => this.update(old, object),
      onDelete: (object) => this.update(object, undefined),
    });
  }

  /** The cached objects with index value `value`. */
  get<T extends KubeObject = KubeObject>(value: string): T[] {
    const keys = this.byValue.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const key of keys) {
      const object = this.informer.get(key);
      if (object) out.push(object as T);
    }
    return out;
  }

  count(value: string): number {
    return this.byValue.get(value)?.size ?? 0;
  }

  private update(old: KubeObject | undefined, object: KubeObject | undefined): void {
    const before = old ? this.indexFn(old) : [];
    const after = object ? this.indexFn(object) : [];
    const oldKey = old ? objectKey(old) : undefined;
    const newKey = object ? objectKey(object) : undefined;
    for (const value of before) {
      if (newKey === oldKey && after.includes(value)) continue;
      const set = this.byValue.get(value);
      if (!set || oldKey === undefined) continue;
      set.delete(oldKey);
      if (set.size === 0) this.byValue.delete(value);
    }
    if (newKey === undefined) return;
    for (const value of after) {
      let set = this.byValue.get(value);
      if (!set) this.byValue.set(value, (set = new Set()));
      set.add(newKey);
    }
  }
}
