import { inspectorAccessControl } from '../component/access-control.js';
import { COMPONENTS } from '../component/paths.js';
import { LookoutError } from '../src/core/errors.js';

export type Json = Record<string, unknown>;
const isPlain = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Greengrass's merge rule: objects merge key by key, arrays and scalars replace. */
export function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    out[key] = isPlain(prev) && isPlain(value) ? deepMerge(prev, value) : value;
  }
  return out;
}

/** A deployment's `configurationUpdate.merge` document (a JSON string) as an object. */
export function parseMergeDocument(text: string | undefined, where: string): Json {
  if (text === undefined || text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new LookoutError('USAGE', `${where}: the configuration merge is not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!isPlain(value)) throw new LookoutError('USAGE', `${where}: the configuration merge must be a JSON object`);
  return value;
}

/**
 * The inspector's authorization policies name the topic prefix: when a merge sets `publish.topicPrefix`,
 * the policies for that prefix are merged too, so that the component keeps exactly the access it needs.
 */
export function withAccessControlForPrefix(component: string, merge: Json, inspector: string = COMPONENTS.Inspector): Json {
  if (component !== inspector) return merge;
  const prefix = isPlain(merge.publish) ? merge.publish.topicPrefix : undefined;
  if (typeof prefix !== 'string') return merge;
  return { ...merge, accessControl: inspectorAccessControl(prefix, inspector) };
}

/** Reads `--merge name=<json>` / `name=@file.json` values (already split) into objects. */
export function mergeFromText(component: string, text: string): Json {
  return parseMergeDocument(text, `--merge ${component}`);
}
