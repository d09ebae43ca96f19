import type { Readable } from 'node:stream';

/**
 * The in-process way to the API (kube-apiserver's loopback client, without the socket): the same
 * requests and answers as over HTTPS — paths, query, Status errors, watch events, authentication,
 * admission and metrics — for controllers that run inside `flotilla serve`. What would cross the
 * wire as JSON crosses as decoded values instead, each side handing the other its own copy. The
 * server implements it; `HttpClient` uses it in place of a connection when its config carries one,
 * so controllers see no difference.
 */
export interface LocalRequest {
  readonly method: string;
  /** Path and query, as on the wire. */
  readonly path: string;
  readonly accept: string;
  readonly contentType?: string;
  readonly userAgent: string;
  /** The JSON body, decoded; the server may keep it (the client passes a copy it will not touch). */
  readonly body?: unknown;
  readonly signal?: AbortSignal;
}

export interface LocalResponse {
  readonly statusCode: number;
  readonly contentType: string | undefined;
  /** A JSON answer, decoded; the caller owns it. */
  readonly value?: unknown;
  /** Any other answer (health, text), as it would be sent. */
  readonly text?: string;
}

/** A watch in progress: an object-mode stream of `{ type, object }` events, each the reader's own. */
export type LocalStream = Readable;

export interface LocalTransport {
  request(req: LocalRequest): Promise<LocalResponse>;
  /** A watch: its events as a stream, or the answer that refused it. */
  stream(req: LocalRequest): Promise<LocalStream | LocalResponse>;
}

export function isLocalStream(value: LocalStream | LocalResponse): value is LocalStream {
  return 'readableObjectMode' in value;
}
