import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PassThrough } from 'node:stream';
import { randomInt } from 'node:crypto';
import { deepClone } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import { ApiError, errors } from '../api/status.js';
import { keyPrefix } from '../registry/resource.js';
import { versionView } from '../registry/versions.js';
import type { VersionView } from '../registry/versions.js';
import type { ResourceDefinition } from '../registry/resource.js';
import type { CachedEvent, WatchEventType } from '../watchcache/watch-cache.js';
import { printerFor } from './table/printers.js';
import { buildTable } from './table/table.js';
import { negotiate } from './negotiation.js';
import type { ResponseForm } from './negotiation.js';
import { parseResourceVersion, resolve, selection, selects } from './resource-handlers.js';
import type { ResourceContext, ResourceRequest } from './resource-handlers.js';

/**
 * A watch stream (kube-api-contract.md §5): newline-delimited JSON events, flushed one by one, served
 * from the resource's watch cache. Selectors turn MODIFIED into ADDED/DELETED as objects start or
 * stop matching; a too-old resourceVersion is an ERROR event with 410 Expired, then the end.
 */
const BOOKMARK_INTERVAL_MS = 60_000;
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;
/** The in-process counterpart (events, not bytes). */
const MAX_BUFFERED_EVENTS = 20_000;

export interface WatchPlan {
  readonly def: ResourceDefinition;
  /** Runs the watch into `sink` until the timeout, the watcher leaving, or an error event. */
  readonly start: (sink: WatchSink) => Promise<void>;
}

/** One watch event as a value (in-process watchers get these instead of JSON lines). */
export interface WatchEventValue {
  readonly type: string;
  readonly object: unknown;
}

/** What every watch sink does: begin the answer, end it, and tell when the watcher leaves or lags. */
interface SinkLifecycle {
  /** Begins the 200 answer. */
  open(headers: Record<string, string>): void;
  end(): void;
  readonly ended: boolean;
  /** The watcher is so far behind that it is better off relisting. */
  readonly overloaded: boolean;
  /** Called once when the watcher goes away. */
  onClose(listener: () => void): void;
}

/** An HTTP watch: each event as its JSON line. */
export interface LineSink extends SinkLifecycle {
  readonly decoded: false;
  write(line: string): void;
}

/** An in-process watch: each event as a value the sink hands on as it is (the writer made it the watcher's own). */
export interface ValueSink extends SinkLifecycle {
  readonly decoded: true;
  push(event: WatchEventValue): void;
}

/** Where a watch's events go: an HTTP response (JSON lines), or a stream an in-process client reads. */
export type WatchSink = LineSink | ValueSink;

/** A watch answered over HTTP (chunked, flushed per event). */
export function httpWatchSink(req: IncomingMessage, res: ServerResponse): LineSink {
  return {
    open: (headers) => {
      res.writeHead(200, { ...headers, 'Transfer-Encoding': 'chunked' });
      res.flushHeaders();
    },
    decoded: false,
    write: (line) => {
      if (!res.writableEnded && !res.destroyed) res.write(line);
    },
    end: () => {
      if (!res.writableEnded) res.end();
    },
    get ended() {
      return res.writableEnded || res.destroyed;
    },
    get overloaded() {
      return res.writableLength > MAX_BUFFERED_BYTES;
    },
    onClose: (listener) => {
      req.socket.once('close', listener);
      res.once('close', listener);
    },
  };
}

/** A watch read in-process: event values go into `stream` (object mode); destroying it is the watcher leaving. */
export function streamWatchSink(stream: PassThrough): ValueSink {
  return {
    open: () => undefined, // an open stream is the 200
    decoded: true,
    push: (event) => {
      if (!stream.writableEnded && !stream.destroyed) stream.write(event);
    },
    end: () => {
      if (!stream.writableEnded && !stream.destroyed) stream.end();
    },
    get ended() {
      return stream.writableEnded || stream.destroyed;
    },
    get overloaded() {
      return stream.writableLength + stream.readableLength > MAX_BUFFERED_EVENTS;
    },
    onClose: (listener) => {
      stream.once('close', listener);
    },
  };
}

/** Validates a watch request (errors here are ordinary HTTP errors) and returns how to run it. */
export function planWatch(ctx: ResourceContext, req: ResourceRequest, onEvent?: (def: ResourceDefinition) => void): WatchPlan {
  const { info, query } = req;
  const def = resolve(ctx, info);
  const q = new URLSearchParams(query);
  if (info.name !== undefined) q.set('fieldSelector', [q.get('fieldSelector'), `metadata.name=${info.name}`].filter(Boolean).join(','));
  const sel = selection(def, q);
  const resourceVersion = q.get('resourceVersion') ?? undefined;
  const rv = parseResourceVersion(resourceVersion);
  const match = q.get('resourceVersionMatch') ?? undefined;
  const sendInitialEventsParam = q.get('sendInitialEvents');
  const sendInitialEvents = sendInitialEventsParam === null ? undefined : sendInitialEventsParam === 'true';
  const bookmarks = q.get('allowWatchBookmarks') === 'true';
  if (sendInitialEvents !== undefined && match !== 'NotOlderThan') {
    throw invalid('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan');
  }
  if (match !== undefined && sendInitialEvents === undefined) {
    throw invalid('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided');
  }
  const timeoutParam = q.get('timeoutSeconds');
  const timeoutSeconds = timeoutParam !== null ? Number(timeoutParam) : randomInt(1800, 3600);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds < 0) throw errors.badRequest(`invalid timeoutSeconds "${timeoutParam ?? ''}"`);
  const form = negotiate(req.accept, true);
  const namespace = def.namespaced ? info.namespace : undefined;
  const prefix = namespace !== undefined ? `${keyPrefix(def)}${namespace}/` : keyPrefix(def);
  const initial = sendInitialEvents ?? (rv === undefined || rv === 0);

  const start = async (sink: WatchSink): Promise<void> => {
    const cache = ctx.objects.cache(def);
    const stream = new EventWriter(def, versionView(def, info.version), form, sink, onEvent);
    let unsubscribe: (() => void) | undefined;
    let bookmarkTimer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      unsubscribe?.();
      clearInterval(bookmarkTimer);
      clearTimeout(timeoutTimer);
      sink.end();
    };
    const timeoutTimer = setTimeout(finish, timeoutSeconds * 1000);
    sink.onClose(finish);

    sink.open({ 'Content-Type': form.as === 'Object' ? 'application/json' : form.contentType, 'Cache-Control': 'no-cache, private' });
    try {
      let from = rv ?? 0;
      if (initial) {
        // "0": any cached state; N (watch-list): not older than N; unset: a consistent read.
        const snapshot = await ctx.objects.snapshot(def, prefix, resourceVersion === '0' ? 0 : rv);
        for (const object of snapshot.objects) if (selects(def, sel, object)) stream.write('ADDED', object);
        from = snapshot.revision;
        if (sendInitialEvents) stream.bookmark(from, true);
      } else {
        const current = await ctx.objects.revision();
        if (from > current) throw errors.timeout(`Too large resource version: ${from}, current: ${current}`, 1);
      }
      unsubscribe = await cache.watch(from, {
        onEvent: (event) => {
          if (!event.key.startsWith(prefix)) return;
          const type = transition(def, sel, event);
          if (type) stream.writeEvent(type, event);
          if (sink.overloaded) finish(); // a client this far behind relists
        },
        onError: (err) => {
          stream.error(err instanceof ApiError ? err : errors.internal(String(err)));
          finish();
        },
      });
      if (bookmarks) bookmarkTimer = setInterval(() => stream.bookmark(cache.revision, false), BOOKMARK_INTERVAL_MS);
    } catch (err) {
      stream.error(err instanceof ApiError ? err : errors.internal(err instanceof Error ? err.message : String(err)));
      finish();
    }
  };
  return { def, start };
}

function invalid(field: string, message: string): ApiError {
  return errors.invalid('ListOptions', 'meta.k8s.io', '', [{ reason: 'FieldValueForbidden', field, message: `Forbidden: ${message}` }]);
}

/** What a watcher with selectors sees of one change. */
function transition(def: ResourceDefinition, sel: ReturnType<typeof selection>, event: CachedEvent): WatchEventType | undefined {
  const now = event.type !== 'DELETED' && selects(def, sel, event.object);
  const before = event.prevObject !== undefined && selects(def, sel, event.prevObject);
  if (event.type === 'DELETED') return before ? 'DELETED' : undefined;
  if (now && before) return 'MODIFIED';
  if (now) return 'ADDED';
  return before ? 'DELETED' : undefined;
}

/** Serializes events in the negotiated form; the plain JSON form reuses the cache's serialization. */
class EventWriter {
  private readonly def: ResourceDefinition;
  private readonly view: VersionView;
  private readonly form: ResponseForm;
  private readonly sink: WatchSink;
  private readonly onEvent: ((def: ResourceDefinition) => void) | undefined;
  private columnsSent = false;

  constructor(def: ResourceDefinition, view: VersionView, form: ResponseForm, sink: WatchSink, onEvent?: (def: ResourceDefinition) => void) {
    this.def = def;
    this.view = view;
    this.form = form;
    this.sink = sink;
    this.onEvent = onEvent;
  }

  writeEvent(type: WatchEventType, event: CachedEvent): void {
    if (!this.sink.decoded && this.form.as === 'Object' && this.view.isStorage) this.line(`{"type":"${type}","object":${event.objectJson}}\n`);
    else this.write(type, event.object);
  }

  /** One event with a stored object, shown at the watcher's version. */
  write(type: WatchEventType, object: KubeObject): void {
    // A decoded watcher gets its own copy: stored objects are shared by every reader of the cache.
    if (this.sink.decoded) this.value({ type, object: deepClone(this.shape(this.view.out(object))) });
    else this.line(`${JSON.stringify({ type, object: this.shape(this.view.out(object)) })}\n`);
  }

  bookmark(revision: number, initialEventsEnd: boolean): void {
    const object: KubeObject = {
      kind: this.def.kind,
      apiVersion: this.view.apiVersion,
      metadata: { resourceVersion: String(revision), ...(initialEventsEnd ? { annotations: { 'k8s.io/initial-events-end': 'true' } } : {}) },
    };
    this.value({ type: 'BOOKMARK', object });
  }

  error(err: ApiError): void {
    this.value({ type: 'ERROR', object: err.toStatus() });
  }

  private shape(object: KubeObject): unknown {
    if (this.form.as === 'Object') return object;
    if (this.form.as === 'Table') {
      const table = buildTable(printerFor(this.def), [object], { includeObject: 'Metadata', resourceVersion: object.metadata.resourceVersion ?? '', omitColumns: this.columnsSent });
      this.columnsSent = true;
      return table;
    }
    return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata };
  }

  /** A JSON line (only ever made for a line sink). */
  private line(text: string): void {
    const sink = this.sink;
    if (sink.decoded || sink.ended) return;
    sink.write(text);
    this.onEvent?.(this.def);
  }

  /** An event made here (not shared): as it is to a decoded sink, as its line to others. */
  private value(event: WatchEventValue): void {
    if (this.sink.ended) return;
    if (this.sink.decoded) this.sink.push(event);
    else this.sink.write(`${JSON.stringify(event)}\n`);
    this.onEvent?.(this.def);
  }
}
