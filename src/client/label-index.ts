import type { KubeObject } from '../api/object.js';
import type { Informer } from './informer.js';
import { objectKey } from './informer.js';

/**
 * An index over an informer's cache by the value of a label (client-go's Indexer with one index
 * function): e.g. Works by their binding's permanent id. `labels` lists label keys whose values all
 * index the object (an object with none of them is not indexed).
 */
export class LabelIndex {
  private readonly informer: Informer;
  private readonly labels: readonly string[];
  private readonly index = new Map<string, Set<string>>();
  private readonly indexedBy = new Map<string, string[]>();

  constructor(informer: Informer, labels: readonly string[]) {
    this.informer = informer;
    this.labels = labels;
    informer.addHandlers({
      onAdd: (object) => this.put(object),
      onUpdate: (_old, object) => this.put(object),
      onDelete: (object) => this.remove(objectKey(object)),
    });
  }

  /** The cached objects whose indexed label has this value. */
  get(value: string): KubeObject[] {
    const keys = this.index.get(value);
    if (!keys) return [];
    const objects: KubeObject[] = [];
    for (const key of keys) {
      const object = this.informer.get(key);
      if (object) objects.push(object);
    }
    return objects;
  }

  private put(object: KubeObject): void {
    const key = objectKey(object);
    const values = this.labels.map((label) => object.metadata.labels?.[label]).filter((v): v is string => typeof v === 'string' && v !== '');
    const before = this.indexedBy.get(key);
    if (before && before.length === values.length && before.every((v, i) => v === values[i])) return;
    this.remove(key);
    if (values.length === 0) return;
    this.indexedBy.set(key, values);
    for (const value of values) {
      let keys = this.index.get(value);
      if (!keys) this.index.set(value, (keys = new Set()));
      keys.add(key);
    }
  }

  private remove(key: string): void {
    for (const value of this.indexedBy.get(key) ?? []) {
      const keys = this.index.get(value);
      keys?.delete(key);
      if (keys?.size === 0) this.index.delete(value);
    }
    this.indexedBy.delete(key);
  }
}
