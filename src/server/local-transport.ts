import { PassThrough } from 'node:stream';
import { deepClone } from '../api/object.js';
import { errors } from '../api/status.js';
import type { ApiError } from '../api/status.js';
import type { LocalRequest, LocalResponse, LocalTransport } from '../client/local-transport.js';
import type { ApiResponse } from '../endpoints/resource-handlers.js';
import { streamWatchSink } from '../endpoints/watch.js';
import type { WatchPlan } from '../endpoints/watch.js';

/** What an API request comes to: an answer, or a watch to run. */
export type ApiOutcome = { readonly response: ApiResponse } | { readonly watch: WatchPlan };

export interface LocalTransportParts {
  /** A request under /api or /apis, through the server's own request path (authenticated as the transport's user). */
  call(req: LocalRequest): Promise<ApiOutcome>;
  /** Any other path (discovery roots, health, OpenAPI), through fastify's inject. */
  inject(req: LocalRequest): Promise<LocalResponse>;
  /** A failure as the Status error the server would answer with (logged when it is the server's fault). */
  failure(err: unknown): ApiError;
}

/**
 * The server side of the in-process transport (`flotilla serve --controller-transport in-process`,
 * and a simulated member's own controllers). Answers become the caller's: a copy, unless the body
 * was made for this answer alone (a write's result) — a GET or LIST body holds objects the watch
 * cache shares with every reader. A watch is an object-mode stream of event values.
 */
export function createLocalTransport(parts: LocalTransportParts): LocalTransport {
  const isApiPath = (path: string) => path.startsWith('/api/') || path.startsWith('/apis/');
  const failure = (err: unknown): LocalResponse => {
    const status = parts.failure(err);
    return { statusCode: status.code, contentType: 'application/json', value: status.toStatus() };
  };
  const answer = (response: ApiResponse): LocalResponse => {
    const contentType = response.contentType ?? 'application/json';
    if (typeof response.body !== 'string') return { statusCode: response.code, contentType, value: response.fresh ? response.body : deepClone(response.body) };
    return contentType.includes('json') ? { statusCode: response.code, contentType, value: JSON.parse(response.body) as unknown } : { statusCode: response.code, contentType, text: response.body };
  };
  const request = async (req: LocalRequest): Promise<LocalResponse> => {
    if (!isApiPath(req.path)) return parts.inject(req);
    try {
      const outcome = await parts.call(req);
      if ('watch' in outcome) throw errors.badRequest('a watch is read as a stream');
      return answer(outcome.response);
    } catch (err) {
      return failure(err);
    }
  };
  return {
    request,
    async stream(req) {
      if (!isApiPath(req.path)) return request(req);
      let outcome: ApiOutcome;
      try {
        outcome = await parts.call(req);
      } catch (err) {
        return failure(err);
      }
      if ('response' in outcome) return answer(outcome.response);
      const stream = new PassThrough({ objectMode: true });
      void outcome.watch.start(streamWatchSink(stream));
      return stream;
    },
  };
}
