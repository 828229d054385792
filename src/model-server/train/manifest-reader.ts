import { access, readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { LookoutError } from '../../core/errors.js';
import type { ModelClass } from '../runtime.js';
import type { DatasetEntry } from './dataset.js';

/**
 * Reads a Lookout for Vision / SageMaker Ground Truth manifest (JSON Lines; classification or
 * segmentation). `s3://bucket/key` refs map to `<s3Root>/key` (or `<s3Root>/bucket/key` when that
 * exists); relative refs resolve against the manifest's folder, then its parent (the console's
 * `manifests/` folder sits beside the images). Every problem names its line.
 */
export interface ManifestOptions {
  readonly s3Root?: string;
}

export async function readManifest(path: string, options: ManifestOptions = {}): Promise<DatasetEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new LookoutError('DATASET_INVALID', `cannot read manifest ${path}: ${(err as Error).message}`, { cause: err });
  }
  const entries: DatasetEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    entries.push(await parseLine(line, i + 1, path, options));
  }
  if (entries.length === 0) throw new LookoutError('DATASET_INVALID', `manifest ${path} has no entries`);
  return entries;
}

function invalid(path: string, lineNo: number, reason: string, cause?: unknown): LookoutError {
  return new LookoutError('DATASET_INVALID', `${basename(path)} line ${lineNo}: ${reason}`, { cause, details: { manifest: path, line: lineNo } });
}

async function parseLine(line: string, lineNo: number, manifestPath: string, options: ManifestOptions): Promise<DatasetEntry> {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch (err) {
    throw invalid(manifestPath, lineNo, `not valid JSON (${(err as Error).message})`, err);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw invalid(manifestPath, lineNo, 'not a JSON object');
  const rec = obj as Record<string, unknown>;
  const source = rec['source-ref'];
  if (typeof source !== 'string' || source === '') throw invalid(manifestPath, lineNo, 'missing "source-ref"');
  const anomalous = readLabel(rec, manifestPath, lineNo);
  const origin = `${basename(manifestPath)} line ${lineNo}`;
  const image = await resolveRef(source, manifestPath, lineNo, options);
  const maskRef = rec['anomaly-mask-ref'];
  if (maskRef === undefined || !anomalous) return { image, anomalous, origin };
  if (typeof maskRef !== 'string' || maskRef === '') throw invalid(manifestPath, lineNo, '"anomaly-mask-ref" is not a string');
  const mask = await resolveRef(maskRef, manifestPath, lineNo, options);
  const colorMap = readColorMap(rec['anomaly-mask-ref-metadata'], manifestPath, lineNo);
  return { image, anomalous, mask, colorMap, origin };
}

/** The label attribute: the key whose `-metadata` says image-classification, else `anomaly-label`. */
function readLabel(rec: Record<string, unknown>, path: string, lineNo: number): boolean {
  let key = 'anomaly-label';
  for (const [k, v] of Object.entries(rec)) {
    if (k.endsWith('-metadata') && typeof v === 'object' && v !== null && (v as Record<string, unknown>)['type'] === 'groundtruth/image-classification') {
      key = k.slice(0, -'-metadata'.length);
    }
  }
  const value = rec[key];
  const className = (rec[`${key}-metadata`] as Record<string, unknown> | undefined)?.['class-name'];
  if (value === 1 || value === '1') return true;
  if (value === 0 || value === '0') return false;
  if (className === 'anomaly') return true;
  if (className === 'normal') return false;
  throw invalid(path, lineNo, `missing label: "${key}" must be 1 (anomaly) or 0 (normal)`);
}

function readColorMap(meta: unknown, path: string, lineNo: number): ModelClass[] {
  const map = (meta as Record<string, unknown> | undefined)?.['internal-color-map'];
  if (map === undefined) return [];
  if (typeof map !== 'object' || map === null) throw invalid(path, lineNo, '"internal-color-map" is not an object');
  const classes: ModelClass[] = [];
  for (const [index, v] of Object.entries(map as Record<string, unknown>)) {
    const entry = v as Record<string, unknown> | null;
    const name = entry?.['class-name'];
    const hex = entry?.['hex-color'];
    if (typeof name !== 'string' || typeof hex !== 'string' || !/^#[0-9a-fA-F]{6}$/.test(hex)) {
      throw invalid(path, lineNo, `"internal-color-map" entry ${index} needs "class-name" and a "#RRGGBB" "hex-color"`);
    }
    if (name.toLowerCase() === 'background') continue;
    classes.push({ name, hexColor: hex.toUpperCase() });
  }
  return classes;
}

async function resolveRef(ref: string, manifestPath: string, lineNo: number, options: ManifestOptions): Promise<string> {
  const candidates: string[] = [];
  const s3 = /^s3:\/\/([^/]+)\/(.+)$/.exec(ref);
  if (s3) {
    if (!options.s3Root) throw invalid(manifestPath, lineNo, `${ref} is an s3:// reference; pass --s3-root <dir> holding the bucket's files`);
    candidates.push(join(options.s3Root, s3[2]!), join(options.s3Root, s3[1]!, s3[2]!));
  } else if (isAbsolute(ref)) {
    candidates.push(ref);
  } else {
    const dir = dirname(resolve(manifestPath));
    candidates.push(join(dir, ref), join(dirname(dir), ref));
  }
  for (const c of candidates) {
    try {
      await access(c);
      return c;
    } catch {
      // next candidate
    }
  }
  throw invalid(manifestPath, lineNo, `missing file ${ref} (looked for ${candidates.join(', ')})`);
}
