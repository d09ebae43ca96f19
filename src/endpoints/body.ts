import { parse as parseYaml } from 'yaml';
import { isPlainObject } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import { errors } from '../api/status.js';

/**
 * Request bodies: JSON (also when no Content-Type is sent, as `kubectl scale` does) or YAML for
 * objects; the four patch media types for PATCH. Protobuf and anything else → 415.
 */
export const OBJECT_MEDIA_TYPES = ['application/json', 'application/yaml'];
export const PATCH_MEDIA_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'] as const;
export type PatchType = (typeof PATCH_MEDIA_TYPES)[number];

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * A body an in-process client handed over already decoded (a private copy the server may keep):
 * read as the JSON document it stands for, without the text in between.
 */
export class DecodedBody {
  constructor(readonly value: unknown) {}
}

/** Whether a request carries a body at all. */
function present(raw: unknown): raw is Buffer | DecodedBody {
  return raw instanceof DecodedBody || (Buffer.isBuffer(raw) && raw.length > 0);
}

function parseDocument(raw: Buffer | DecodedBody, type: string): unknown {
  if (raw instanceof DecodedBody) return raw.value;
  const text = raw.toString('utf8');
  if (type === 'application/yaml' || type === 'application/apply-patch+yaml') {
    try {
      return parseYaml(text, { uniqueKeys: true });
    } catch (err) {
      throw errors.badRequest(`error converting YAML to JSON: ${(err as Error).message.split('\n')[0] ?? ''}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw errors.badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
}

/** The object of a create / update request. */
export function readObject(raw: unknown, contentType: string | undefined): KubeObject {
  const type = mediaType(contentType) || 'application/json';
  if (!OBJECT_MEDIA_TYPES.includes(type)) throw errors.unsupportedMediaType(type, OBJECT_MEDIA_TYPES);
  if (!present(raw)) throw errors.badRequest('the body of the request is empty; an object is required');
  const value = parseDocument(raw, type);
  if (!isPlainObject(value)) throw errors.badRequest('the body of the request must be a JSON object');
  if (value['metadata'] !== undefined && !isPlainObject(value['metadata'])) throw errors.badRequest('metadata must be an object');
  if (value['metadata'] === undefined) value['metadata'] = {};
  return value as KubeObject;
}

/** The patch document of a PATCH request, and its type. */
export function readPatch(raw: unknown, contentType: string | undefined): { type: PatchType; patch: unknown } {
  const type = mediaType(contentType) as PatchType;
  if (!PATCH_MEDIA_TYPES.includes(type)) throw errors.unsupportedMediaType(type, [...PATCH_MEDIA_TYPES]);
  if (!present(raw)) throw errors.badRequest('the body of the request is empty; a patch is required');
  return { type, patch: parseDocument(raw, type) };
}

/** A DeleteOptions body (optional; kubectl sends `{"propagationPolicy":"Background"}`). */
export function readDeleteOptions(raw: unknown, contentType: string | undefined): Record<string, unknown> {
  if (!present(raw)) return {};
  const value = parseDocument(raw, mediaType(contentType) === 'application/yaml' ? 'application/yaml' : 'application/json');
  if (!isPlainObject(value)) throw errors.badRequest('DeleteOptions must be a JSON object');
  return value;
}
