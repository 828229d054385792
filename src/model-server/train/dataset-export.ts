import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LookoutError } from '../../core/errors.js';
import { MAX_SIDE, MIN_SIDE, type RgbImage } from '../../core/image.js';
import type { Logger } from '../../core/log.js';
import type { EvidenceReader } from '../../evidence/evidence-index.js';
import { safeStem } from '../../core/safe-name.js';
import type { ImageCodec } from '../../evidence/image-codec.js';
import type { EvidenceRecord } from '../../evidence/types.js';

/**
 * Writes reviewed evidence as a Lookout for Vision dataset that can be merged with the original one.
 *
 * `manifest` layout (default), paths in the manifest relative to `outDir` like the cookie dataset:
 *   images/<id>.jpg · masks/<id>.png (anomalies with a mask) · manifests/<split>.manifest
 * Each manifest line (SageMaker Ground Truth JSON Lines) carries `source-ref`, `anomaly-label` 0/1 with
 * `anomaly-label-metadata` (class-name normal/anomaly, type groundtruth/image-classification) and, when
 * the anomaly has a mask, `anomaly-mask-ref` with `anomaly-mask-ref-metadata.internal-color-map` (defect
 * classes only, black background, the same map on every line), type groundtruth/semantic-segmentation.
 *
 * `folders` layout: <split>/normal/<id>.jpg and <split>/anomaly/<id>.jpg (no masks; the console's folder import).
 */

export const DEFAULT_CLASS = { name: 'anomaly', hexColor: '#FF0000' } as const;
const LABEL_ATTRIBUTE = 'anomaly-label';
const MASK_ATTRIBUTE = 'anomaly-mask-ref';
const JOB_NAME = 'lookout-edge-review';
const HEX = /^#[0-9A-Fa-f]{6}$/;

export interface DatasetExportOptions {
  readonly reader: EvidenceReader;
  /** Where the evidence files live (paths in the index are relative to it). */
  readonly evidenceDir: string;
  readonly outDir: string;
  readonly codec: Pick<ImageCodec, 'decodeMask' | 'encodePng'>;
  readonly log: Logger;
  readonly layout?: 'manifest' | 'folders';
  readonly split?: 'train' | 'test';
  /** Only decisions taken at or after this time (ms): incremental exports. */
  readonly reviewedSince?: number;
  /** Single-class export: every defect pixel is painted in this class's colour. */
  readonly singleClass?: { readonly name: string; readonly hexColor: string };
}

export interface DatasetExportResult {
  readonly manifestPath: string | null;
  readonly normal: number;
  readonly anomalous: number;
  readonly masks: number;
  readonly classes: readonly { name: string; hexColor: string }[];
  readonly sizes: readonly string[];
  readonly skipped: readonly { id: string; reason: string }[];
}

interface Line {
  readonly record: EvidenceRecord;
  readonly imageRef: string;
  readonly maskRef: string | null;
}

const rgbKey = (r: number, g: number, b: number) => (r << 16) | (g << 8) | b;
const hexToKey = (hex: string) => parseInt(hex.slice(1), 16);
const keyToHex = (key: number) => `#${key.toString(16).padStart(6, '0').toUpperCase()}`;

/** Maps every defect pixel of a mask to a known class colour; unknown colours (or all, when single) go to the fallback class. */
function recolour(mask: RgbImage, known: Map<number, string>, fallback: { name: string; hexColor: string }, single: boolean): { image: RgbImage; used: Set<number> } {
  const out = new Uint8Array(mask.pixels.length);
  const used = new Set<number>();
  const fallbackKey = hexToKey(fallback.hexColor);
  const p = mask.pixels;
  for (let i = 0; i < p.length; i += 3) {
    const key = rgbKey(p[i]!, p[i + 1]!, p[i + 2]!);
    if (key === 0) continue;
    const target = single || !known.has(key) ? fallbackKey : key;
    used.add(target);
    out[i] = target >> 16;
    out[i + 1] = (target >> 8) & 0xff;
    out[i + 2] = target & 0xff;
  }
  return { image: { width: mask.width, height: mask.height, pixels: out }, used };
}

function sizeProblem(record: EvidenceRecord): string | null {
  const { width, height } = record;
  if (width < MIN_SIDE || height < MIN_SIDE || width > MAX_SIDE || height > MAX_SIDE) {
    return `size ${width}x${height} outside ${MIN_SIDE}-${MAX_SIDE}`;
  }
  return null;
}

export async function exportDataset(options: DatasetExportOptions): Promise<DatasetExportResult> {
  const layout = options.layout ?? 'manifest';
  const split = options.split ?? 'train';
  const single = options.singleClass;
  if (single && !HEX.test(single.hexColor)) throw new LookoutError('USAGE', `--color must be #RRGGBB, got ${single.hexColor}`);
  if (single && /^#0{6}$/.test(single.hexColor)) throw new LookoutError('USAGE', '--color cannot be black: black is the background');
  const fallback = single ? { name: single.name, hexColor: single.hexColor.toUpperCase() } : DEFAULT_CLASS;

  const records = options.reader
    .list({ status: 'reviewed', ...(options.reviewedSince !== undefined ? { reviewedSince: options.reviewedSince } : {}) })
    .reverse(); // oldest first: stable manifests across runs
  const skipped: { id: string; reason: string }[] = [];
  const sizes = new Set<string>();
  // Class colours: the models' classes (from the verdicts), then the fallback; listed in order of first use.
  const known = new Map<number, string>();
  for (const r of records) {
    for (const a of r.verdict.anomalies) if (HEX.test(a.hexColor) && hexToKey(a.hexColor) !== 0) known.set(hexToKey(a.hexColor), a.name);
  }
  known.set(hexToKey(fallback.hexColor), fallback.name);
  const usedClasses: number[] = [];

  const dirs = layout === 'manifest' ? ['images', 'masks', 'manifests'] : [join(split, 'normal'), join(split, 'anomaly')];
  for (const d of dirs) await mkdir(join(options.outDir, d), { recursive: true });

  const lines: Line[] = [];
  let normal = 0;
  let anomalous = 0;
  let masks = 0;
  for (const record of records) {
    const problem = sizeProblem(record);
    if (problem) {
      skipped.push({ id: record.id, reason: problem });
      continue;
    }
    const stem = safeStem(record.id);
    const imageRef = layout === 'manifest' ? `images/${stem}.jpg` : `${split}/${record.label}/${stem}.jpg`;
    try {
      await copyFile(join(options.evidenceDir, record.framePath), join(options.outDir, imageRef));
    } catch (err) {
      skipped.push({ id: record.id, reason: `frame file unreadable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      continue;
    }
    let maskRef: string | null = null;
    const maskFile = record.maskSource === 'reviewer' ? record.reviewMaskPath : record.maskSource === 'model' ? record.maskPath : null;
    if (layout === 'manifest' && record.label === 'anomaly' && maskFile) {
      try {
        const decoded = await options.codec.decodeMask(await readFile(join(options.evidenceDir, maskFile)), { width: record.width, height: record.height });
        const { image, used } = recolour(decoded, known, fallback, single !== undefined);
        if (used.size > 0) {
          maskRef = `masks/${stem}.png`;
          await writeFile(join(options.outDir, maskRef), await options.codec.encodePng(image));
          for (const key of used) if (!usedClasses.includes(key)) usedClasses.push(key);
          masks += 1;
        }
      } catch (err) {
        options.log.warn({ err, id: record.id }, 'mask not exported; the line stays classification-only');
      }
    }
    sizes.add(`${record.width}x${record.height}`);
    if (record.label === 'anomaly') anomalous += 1;
    else normal += 1;
    lines.push({ record, imageRef, maskRef });
  }

  const classes = usedClasses.map((key) => ({ name: known.get(key)!, hexColor: keyToHex(key) }));
  let manifestPath: string | null = null;
  if (layout === 'manifest') {
    const colorMap = Object.fromEntries(classes.map((c, i) => [String(i), { 'class-name': c.name, 'hex-color': c.hexColor }]));
    const text = lines.map((line) => JSON.stringify(manifestLine(line, colorMap))).join('\n');
    manifestPath = await writeNewManifest(join(options.outDir, 'manifests'), split, text.length ? `${text}\n` : '');
    options.log.info({ manifest: manifestPath, lines: lines.length }, 'dataset manifest written');
  }
  if (sizes.size > 1) options.log.warn({ sizes: [...sizes] }, 'exported images differ in size; a Lookout for Vision project needs one size');
  return { manifestPath, normal, anomalous, masks, classes, sizes: [...sizes], skipped };
}

/**
 * `<split>.manifest`, or `<split>.2.manifest`, `.3` … when an earlier export into the same directory left
 * one: an incremental export (`--since`) adds a manifest next to the earlier ones instead of replacing
 * them (their images stay in images/ either way). Each manifest keeps one colour map on every line, as
 * Lookout for Vision requires; created exclusively, so two exports never share a file.
 */
async function writeNewManifest(dir: string, split: string, text: string): Promise<string> {
  for (let n = 1; n < 10_000; n++) {
    const path = join(dir, n === 1 ? `${split}.manifest` : `${split}.${n}.manifest`);
    try {
      await writeFile(path, text, { flag: 'wx' });
      return path;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new LookoutError('USAGE', `${dir} already holds 9999 ${split} manifests; export into a new directory`);
}

function manifestLine(line: Line, colorMap: Record<string, { 'class-name': string; 'hex-color': string }>): Record<string, unknown> {
  const { record } = line;
  const anomalous = record.label === 'anomaly';
  const created = new Date(record.reviewedAt ?? record.keptAt).toISOString();
  const out: Record<string, unknown> = {
    'source-ref': line.imageRef,
    [LABEL_ATTRIBUTE]: anomalous ? 1 : 0,
    [`${LABEL_ATTRIBUTE}-metadata`]: {
      confidence: 1,
      'job-name': JOB_NAME,
      'class-name': anomalous ? 'anomaly' : 'normal',
      'human-annotated': 'yes',
      'creation-date': created,
      type: 'groundtruth/image-classification',
    },
  };
  if (line.maskRef) {
    out[MASK_ATTRIBUTE] = line.maskRef;
    out[`${MASK_ATTRIBUTE}-metadata`] = {
      'internal-color-map': colorMap,
      'job-name': JOB_NAME,
      'human-annotated': 'yes',
      'creation-date': created,
      type: 'groundtruth/semantic-segmentation',
    };
  }
  return out;
}
