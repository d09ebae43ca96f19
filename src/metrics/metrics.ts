import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from '../../storage/types.js';
import { CounterFamily, HistogramFamily } from './bound-series.js';
import type { HistogramSeries } from './bound-series.js';

/**
 * The server's Prometheus metrics, named as kube-apiserver names them so existing dashboards work:
 * apiserver_request_total, apiserver_request_duration_seconds, apiserver_watch_events_total and
 * etcd_request_duration_seconds (storage latency, whichever backend serves it).
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests = new CounterFamily({
    name: 'apiserver_request_total',
    help: 'Counter of apiserver requests broken out for each verb, API resource, response code.',
    labelNames: ['verb', 'group', 'version', 'resource', 'subresource', 'scope', 'code'] as const,
    registers: [this.registry],
  });
  readonly requestDuration = new HistogramFamily({
    name: 'apiserver_request_duration_seconds',
    help: 'Response latency distribution in seconds for each verb, group, version, resource, subresource and scope.',
    labelNames: ['verb', 'group', 'version', 'resource', 'subresource', 'scope'] as const,
    buckets: [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60],
    registers: [this.registry],
  });
  readonly watchEvents = new CounterFamily({
    name: 'apiserver_watch_events_total',
    help: 'Number of events sent in watch clients.',
    labelNames: ['group', 'version', 'resource'] as const,
    registers: [this.registry],
  });
  readonly storageDuration = new HistogramFamily({
    name: 'etcd_request_duration_seconds',
    help: 'Storage request latency in seconds for each operation and key prefix (etcd or the embedded store).',
    labelNames: ['operation', 'type'] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** The same store, timing every call into etcd_request_duration_seconds. */
  instrument(store: Store): Store {
    // One series per operation and resource, found by the key's resource prefix.
    const series = new Map<string, HistogramSeries>();
    const seriesOf = (operation: string, key: string): HistogramSeries => {
      const id = `${operation} ${resourcePrefix(key)}`;
      let found = series.get(id);
      if (!found) series.set(id, (found = this.storageDuration.labels({ operation, type: resourceOfKey(key) })));
      return found;
    };
    const timed = async <T>(operation: string, key: string, started: number, call: Promise<T>): Promise<T> => {
      try {
        return await call;
      } finally {
        seriesOf(operation, key).observe((performance.now() - started) / 1000);
      }
    };
    return {
      backend: store.backend,
      get: (key) => timed('get', key, performance.now(), store.get(key)),
      list: (prefix, options) => timed('list', prefix, performance.now(), store.list(prefix, options)),
      create: (key, value) => timed('create', key, performance.now(), store.create(key, value)),
      update: (key, value, rev) => timed('update', key, performance.now(), store.update(key, value, rev)),
      delete: (key, rev) => timed('delete', key, performance.now(), store.delete(key, rev)),
      watch: (prefix, from) => store.watch(prefix, from),
      revision: () => timed('revision', '', performance.now(), store.revision()),
      compact: (rev) => timed('compact', '', performance.now(), store.compact(rev)),
      close: () => store.close(),
    };
  }
}

/** "/registry/apps/deployments/ns/x" → "deployments.apps" (kube labels storage metrics by resource). */
function resourceOfKey(key: string): string {
  const [, , group, resource] = key.split('/');
  if (!group || !resource) return 'unknown';
  return group === 'core' ? resource : `${resource}.${group}`;
}

/** "/registry/apps/deployments/ns/x" → "/registry/apps/deployments" (what resourceOfKey reads). */
function resourcePrefix(key: string): string {
  let slashes = 0;
  for (let i = 0; i < key.length; i++) {
    if (key.charCodeAt(i) === 47 && ++slashes === 4) return key.slice(0, i);
  }
  return key;
}
