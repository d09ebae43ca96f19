import { errors } from '../api/status.js';

/**
 * Content negotiation for responses (kube-api-contract.md §4): JSON whenever acceptable, Table and
 * PartialObjectMetadata[List] when asked for with `as=…;v=v1;g=meta.k8s.io`, 406 when nothing works.
 */
export type ResponseForm = { readonly as: 'Object' } | { readonly as: 'Table'; readonly contentType: string } | { readonly as: 'PartialObjectMetadata' | 'PartialObjectMetadataList'; readonly contentType: string };

interface MediaRange {
  type: string;
  params: Record<string, string>;
  q: number;
}

export function parseAccept(accept: string | undefined): MediaRange[] {
  if (!accept) return [{ type: '*/*', params: {}, q: 1 }];
  const ranges: MediaRange[] = [];
  for (const part of accept.split(',')) {
    const [typePart, ...paramParts] = part.split(';');
    const type = (typePart ?? '').trim().toLowerCase();
    if (!type) continue;
    const params: Record<string, string> = {};
    for (const p of paramParts) {
      const eq = p.indexOf('=');
      if (eq > 0) params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim().replace(/^"|"$/g, '');
    }
    const q = params['q'] !== undefined ? Number(params['q']) : 1;
    delete params['q'];
    ranges.push({ type, params, q: Number.isFinite(q) ? q : 0 });
  }
  return ranges.filter((r) => r.q > 0).sort((a, b) => b.q - a.q);
}

const jsonAcceptable = (type: string): boolean => type === 'application/json' || type === 'application/*' || type === '*/*';

/** Picks the response form for a GET/LIST/WATCH of a resource. */
export function negotiate(accept: string | undefined, isList: boolean): ResponseForm {
  const ranges = parseAccept(accept);
  for (const range of ranges) {
    const as = range.params['as'];
    if (as !== undefined) {
      if (range.type !== 'application/json' || range.params['g'] !== 'meta.k8s.io' || (range.params['v'] !== 'v1' && range.params['v'] !== 'v1beta1')) continue;
      const contentType = `application/json;as=${as};v=${range.params['v']};g=meta.k8s.io`;
      if (as === 'Table') return { as: 'Table', contentType };
      if (as === 'PartialObjectMetadata' && !isList) return { as, contentType };
      if (as === 'PartialObjectMetadataList' && isList) return { as, contentType };
      continue;
    }
    if (jsonAcceptable(range.type)) return { as: 'Object' };
  }
  throw errors.notAcceptable(`only the following media types are accepted: application/json, application/json;as=Table;v=v1;g=meta.k8s.io, application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io`);
}

/** Whether the client asked for aggregated discovery, and which version of it. */
export function aggregatedDiscoveryVersion(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  for (const range of parseAccept(accept)) {
    if (range.type === 'application/json' && range.params['g'] === 'apidiscovery.k8s.io' && range.params['as'] === 'APIGroupDiscoveryList') {
      if (range.params['v'] === 'v2' || range.params['v'] === 'v2beta1') return range.params['v'];
    }
    if (jsonAcceptable(range.type) && range.params['as'] === undefined) return undefined;
  }
  return undefined;
}
