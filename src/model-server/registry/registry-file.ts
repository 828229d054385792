import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { componentName } from '../../config/slices/common.js';
import { LookoutError } from '../../core/errors.js';

/**
 * `<registryDir>/<component>.json`: where a model component's Install step says its model directory is.
 * Written atomically (temporary file, then rename) by that Install step; read here.
 */
export const registryFileSchema = z.looseObject({
  component: componentName,
  /** The model component's version; a new version reloads the model. */
  version: z.string().min(1),
  /** The model directory (manifest.json inside); absolute, because the reader runs elsewhere. */
  path: z.string().min(1).refine(isAbsolute, 'must be an absolute path'),
});
export type RegistryRecord = Pick<z.infer<typeof registryFileSchema>, 'component' | 'version' | 'path'>;

/** What a registry file says right now: not there yet, a usable record, or a clear problem. */
export type RegistryLookup =
  | { readonly kind: 'missing'; readonly file: string }
  | { readonly kind: 'found'; readonly file: string; readonly record: RegistryRecord }
  | { readonly kind: 'invalid'; readonly file: string; readonly error: LookoutError };

export function registryFilePath(registryDir: string, component: string): string {
  return join(registryDir, `${component}.json`);
}

/** Reads and validates one registry file; never throws. */
export async function lookupRegistry(registryDir: string, component: string): Promise<RegistryLookup> {
  const file = registryFilePath(registryDir, component);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing', file };
    return { kind: 'invalid', file, error: new LookoutError('MODEL_MANIFEST_INVALID', `model registry file ${file} cannot be read: ${(err as Error).message}`, { cause: err }) };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { kind: 'invalid', file, error: new LookoutError('MODEL_MANIFEST_INVALID', `model registry file ${file} is not valid JSON (${(err as Error).message})`, { cause: err }) };
  }
  const parsed = registryFileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    return { kind: 'invalid', file, error: new LookoutError('MODEL_MANIFEST_INVALID', `model registry file ${file} is invalid: ${problems.join('; ')}`, { details: { file, problems } }) };
  }
  if (parsed.data.component !== component) {
    const message = `model registry file ${file} is for component ${parsed.data.component}, not ${component}`;
    return { kind: 'invalid', file, error: new LookoutError('MODEL_MANIFEST_INVALID', message, { details: { file } }) };
  }
  const { version, path } = parsed.data;
  return { kind: 'found', file, record: { component, version, path } };
}
