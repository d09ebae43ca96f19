import type { Readable } from 'node:stream';

/**
 * The in-process way to the API (kube-apiserver's loopback client, without the socket): the same
 * requests and answers as over HTTPS — paths, query, JSON bodies, Status errors, watch lines — for
 * controllers that run inside `flotilla serve`. The server implements it; `HttpClient` uses it in
 * place of a connection when its config carries one, so controllers see no difference.
 */
export interface LocalRequest {
  readonly method: string;
  /** Path and query, as on the wire. */
  readonly path: string;
  readonly accept: string;
  readonly contentType?: string;
  readonly userAgent: string;
  readonly body?: Buffer;
  readonly signal?: AbortSignal;
}

export interface LocalResponse {
  readonly statusCode: number;
  readonly contentType: string | undefined;
  readonly body: string;
}

/** A streamed answer (a watch): its head, then its body as it is written. */
export type LocalStream = Readable & { readonly statusCode: number; readonly headers: Record<string, string | undefined> };

export interface LocalTransport {
  request(req: LocalRequest): Promise<LocalResponse>;
  stream(req: LocalRequest): Promise<LocalStream>;
}
