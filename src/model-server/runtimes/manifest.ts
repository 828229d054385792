import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { LookoutError } from '../../core/errors.js';
import type { ModelManifest } from '../runtime.js';

const hexColor = z.string().regex(/^#[0-9A-Fa-f]{6}$/, 'a colour such as #FF0000');

/** manifest.json at the root of a model directory; runtime-specific sections pass through. */
export const modelManifestSchema = z.looseObject({
  formatVersion: z.literal(1),
  runtime: z.string().min(1),
  name: z.string().min(1),
  version: z.string().min(1),
  /** Within the Edge Agent protocol's 64..4096, so clients can send frames at exactly this size. */
  input: z.object({ width: z.number().int().min(64).max(4096), height: z.number().int().min(64).max(4096) }),
  /** anomaly_score >= threshold means anomalous; scores and thresholds travel in [0,1]. */
  threshold: z.number().min(0).max(1),
  classes: z.array(z.object({ name: z.string().min(1), hexColor })).default([]),
  createdAt: z.string().optional(),
});

/** Reads and validates `<dir>/manifest.json`; every problem is listed as `path: message`. */
export async function readManifest(dir: string): Promise<ModelManifest> {
  const file = join(dir, 'manifest.json');
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : `not valid JSON (${(err as Error).message})`;
    throw new LookoutError('MODEL_MANIFEST_INVALID', `${file} is ${reason}`, { cause: err, details: { file } });
  }
  const parsed = modelManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new LookoutError('MODEL_MANIFEST_INVALID', `${file} is invalid: ${problems.join('; ')}`, { details: { file, problems } });
  }
  return parsed.data as ModelManifest;
}
