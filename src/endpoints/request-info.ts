/**
 * What a request is about, parsed from method + path + query as kube-apiserver does:
 *   /api/v1[/namespaces/<ns>]/<resource>[/<name>[/<subresource>]]
 *   /apis/<group>/<version>[/namespaces/<ns>]/<resource>[/<name>[/<subresource>]]
 * plus the legacy /watch/ prefix. Everything else is a non-resource request.
 */
export type RequestVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface ResourceRequestInfo {
  readonly isResourceRequest: true;
  readonly verb: RequestVerb;
  readonly group: string;
  readonly version: string;
  readonly namespace: string | undefined;
  readonly resource: string;
  readonly name: string | undefined;
  readonly subresource: string | undefined;
  /** Path segments after the subresource (the proxy subresource's remainder). */
  readonly rest: readonly string[];
}

export interface NonResourceRequestInfo {
  readonly isResourceRequest: false;
  readonly path: string;
  readonly verb: string;
}

export type RequestInfo = ResourceRequestInfo | NonResourceRequestInfo;

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);
const METHOD_VERBS: Record<string, RequestVerb> = { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete', GET: 'get', HEAD: 'get' };

export function parseRequestInfo(method: string, url: string): RequestInfo {
  const queryAt = url.indexOf('?');
  const path = queryAt >= 0 ? url.slice(0, queryAt) : url;
  const query = queryAt >= 0 ? new URLSearchParams(url.slice(queryAt + 1)) : undefined;
  const nonResource: NonResourceRequestInfo = { isResourceRequest: false, path, verb: method.toLowerCase() };
  let parts = path.split('/').filter((p) => p.length > 0).map(safeDecode);
  if (parts.some((p) => p === undefined)) return nonResource;
  let group: string;
  let version: string;
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1] as string;
    parts = parts.slice(2) as string[];
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1] as string;
    version = parts[2] as string;
    parts = parts.slice(3) as string[];
  } else {
    return nonResource;
  }
  let verb = METHOD_VERBS[method];
  if (!verb) return nonResource;
  let legacyWatch = false;
  if (parts[0] === 'watch') {
    legacyWatch = true;
    parts = parts.slice(1);
  }
  let namespace: string | undefined;
  // /namespaces/<ns>/<resource>… is namespace-scoped; /namespaces/<name>[/status|/finalize] is the
  // Namespace object itself (whose namespace is its own name, as kube records it).
  if (parts[0] === 'namespaces' && parts.length >= 2) {
    namespace = parts[1];
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2] as string)) parts = parts.slice(2);
  }
  const [resource, name, subresource, ...rest] = parts as string[];
  if (!resource) return nonResource;
  const watchParam = query?.get('watch');
  const isWatch = legacyWatch || watchParam === 'true' || watchParam === '1';
  if (name === undefined) {
    if (verb === 'get') verb = isWatch ? 'watch' : 'list';
    else if (verb === 'delete') verb = 'deletecollection';
  } else if (verb === 'get' && isWatch) {
    verb = 'watch';
  }
  return { isResourceRequest: true, verb, group, version, namespace, resource, name, subresource, rest };
}

function safeDecode(segment: string): string | undefined {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
