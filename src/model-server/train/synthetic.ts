import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RgbImage } from '../../core/image.js';
import type { ModelClass } from '../runtime.js';
import { writeImage } from './adapters/image-io.js';
import { mulberry } from './coreset.js';
import { hexToRgb } from './mask-decoder.js';
import { CAST_DEFECT_CLASSES, renderCastPart } from './synthetic-cast.js';

/**
 * Synthetic part images for tests and the demo: a machined gear (toothed disc with a bore and
 * four holes) on a textured conveyor background, with small pose jitter, lighting changes and
 * sensor noise; anomalous parts carry one defect with its ground-truth mask. Defect kinds differ
 * in nature on purpose: thin lines (scratch, crack), a missing part, and a stain.
 */
export const DEFECT_CLASSES: readonly ModelClass[] = [
  { name: 'scratch', hexColor: '#7ED321' },
  { name: 'crack', hexColor: '#23A436' },
  { name: 'missing', hexColor: '#F5A623' },
  { name: 'stain', hexColor: '#D0021B' },
];

export interface SyntheticImage {
  readonly image: RgbImage;
  /** Class index per pixel: 0 background, k + 1 = DEFECT_CLASSES[k]. */
  readonly mask: Uint8Array;
  readonly defect?: ModelClass;
}

export function renderPart(size: number, rand: () => number, defect?: number): SyntheticImage {
  const w = size;
  const h = size;
  const px = new Uint8Array(w * h * 3);
  const mask = new Uint8Array(w * h);
  const cx = w / 2 + (rand() - 0.5) * 0.08 * w;
  const cy = h / 2 + (rand() - 0.5) * 0.08 * h;
  const angle = rand() * Math.PI * 2;
  const light = 0.88 + rand() * 0.24;
  const lightDir = rand() * Math.PI * 2;
  const R = 0.33 * size;
  const teeth = 12;
  // Defect geometry, in part coordinates so it moves with the part.
  const def = defect === undefined ? undefined : makeDefect(defect, R, rand);
  const belt = [70 + rand() * 10, 74 + rand() * 10, 80 + rand() * 10];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const dx = x - cx;
      const dy = y - cy;
      const r = Math.hypot(dx, dy);
      const th = Math.atan2(dy, dx) - angle;
      // Part frame coordinates.
      const u = Math.cos(-angle) * dx - Math.sin(-angle) * dy;
      const v = Math.sin(-angle) * dx + Math.cos(-angle) * dy;
      const toothPhase = (((th * teeth) / (2 * Math.PI)) % 1 + 1) % 1;
      const outer = R * (toothPhase < 0.5 ? 1 : 0.88);
      let inPart = r <= outer && r >= 0.22 * R;
      for (let k = 0; k < 4 && inPart; k++) {
        const ha = (k * Math.PI) / 2;
        if (Math.hypot(u - 0.58 * R * Math.cos(ha), v - 0.58 * R * Math.sin(ha)) < 0.1 * R) inPart = false;
      }
      let cls = 0;
      if (inPart && def?.kind === 2 && def.hit(u, v, r)) {
        inPart = false;
        cls = 3;
      }
      const shade = light * (1 + 0.12 * ((x - w / 2) * Math.cos(lightDir) + (y - h / 2) * Math.sin(lightDir)) / w);
      let c: [number, number, number];
      if (inPart) {
        const brushed = 10 * Math.sin((u + 0.3 * v) * 0.9) + 6 * Math.sin(r * 0.7);
        const base = 168 + brushed;
        c = [base, base + 4, base + 10];
        if (def && def.kind !== 2 && def.hit(u, v, r)) {
          cls = def.kind + 1;
          c = def.colour(c);
        }
      } else {
        const tex = 8 * Math.sin(x * 0.8) * Math.sin(y * 0.8) + 6 * Math.sin((x + y) * 0.21);
        c = [belt[0]! + tex, belt[1]! + tex, belt[2]! + tex];
      }
      mask[i] = cls;
      for (let ch = 0; ch < 3; ch++) px[i * 3 + ch] = clamp(c[ch]! * shade + (rand() - 0.5) * 10);
    }
  }
  return { image: { width: w, height: h, pixels: px }, mask, ...(def ? { defect: DEFECT_CLASSES[def.kind]! } : {}) };
}

interface Defect {
  readonly kind: number;
  hit(u: number, v: number, r: number): boolean;
  colour(c: [number, number, number]): [number, number, number];
}

function makeDefect(kind: number, R: number, rand: () => number): Defect {
  if (kind === 0 || kind === 1) {
    // scratch: a straight bright line; crack: a jagged dark polyline.
    const a = rand() * Math.PI * 2;
    const r0 = (0.3 + rand() * 0.3) * R;
    const x0 = r0 * Math.cos(a);
    const y0 = r0 * Math.sin(a);
    const dir = a + Math.PI / 2 + (rand() - 0.5);
    const len = (0.5 + rand() * 0.3) * R;
    const pts: [number, number][] = [[x0, y0]];
    const steps = kind === 0 ? 1 : 5;
    for (let s = 1; s <= steps; s++) {
      const jitter = kind === 0 ? 0 : (rand() - 0.5) * 0.25 * R;
      pts.push([x0 + (Math.cos(dir) * len * s) / steps - Math.sin(dir) * jitter, y0 + (Math.sin(dir) * len * s) / steps + Math.cos(dir) * jitter]);
    }
    const width = kind === 0 ? 0.035 * R + 0.6 : 0.05 * R + 0.8;
    return {
      kind,
      hit: (u, v) => pts.some((p, i) => i > 0 && segDist(u, v, pts[i - 1]!, p) < width),
      colour: (c) => (kind === 0 ? [c[0] + 70, c[1] + 70, c[2] + 70] : [c[0] * 0.3, c[1] * 0.3, c[2] * 0.3]),
    };
  }
  if (kind === 2) {
    // missing: a chunk of the rim broken off.
    const a = rand() * Math.PI * 2;
    const bx = R * Math.cos(a);
    const by = R * Math.sin(a);
    const rad = (0.28 + rand() * 0.12) * R;
    return { kind, hit: (u, v) => Math.hypot(u - bx, v - by) < rad, colour: (c) => c };
  }
  // stain: a soft dark-brown blob.
  const a = rand() * Math.PI * 2;
  const r0 = (0.35 + rand() * 0.3) * R;
  const sx = r0 * Math.cos(a);
  const sy = r0 * Math.sin(a);
  const ra = (0.12 + rand() * 0.08) * R;
  const rb = ra * (0.6 + rand() * 0.4);
  return { kind: 3, hit: (u, v) => ((u - sx) / ra) ** 2 + ((v - sy) / rb) ** 2 < 1, colour: (c) => [c[0] * 0.62, c[1] * 0.5, c[2] * 0.35] };
}

function segDist(x: number, y: number, a: [number, number], b: [number, number]): number {
  const vx = b[0] - a[0];
  const vy = b[1] - a[1];
  const t = Math.max(0, Math.min(1, ((x - a[0]) * vx + (y - a[1]) * vy) / (vx * vx + vy * vy || 1)));
  return Math.hypot(x - a[0] - t * vx, y - a[1] - t * vy);
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

export interface GenerateOptions {
  readonly normal?: number;
  readonly anomalous?: number;
  readonly testNormal?: number;
  readonly testAnomalous?: number;
  readonly seed?: number;
  /** Side of the square images in pixels (>= 64). */
  readonly size?: number;
  /** gear (default): a toothed gear with large defects; cast: round cast parts with small ones (`synthetic-cast.ts`). */
  readonly scene?: 'gear' | 'cast';
}

export interface GeneratedDataset {
  readonly dir: string;
  /** `train.manifest` and `test.manifest` (segmentation, paths relative to `dir`). */
  readonly trainManifest: string;
  readonly testManifest: string;
}

/** Writes the folder layout (with `masks/` beside anomalies) and matching LfV manifests. */
export async function generateDataset(dir: string, options: GenerateOptions = {}): Promise<GeneratedDataset> {
  const size = Math.max(64, options.size ?? 128);
  const classes = options.scene === 'cast' ? CAST_DEFECT_CLASSES : DEFECT_CLASSES;
  const rand = mulberry(options.seed ?? 1);
  const manifests: Record<'train' | 'test', string[]> = { train: [], test: [] };
  const plan: [split: 'train' | 'test', label: 'normal' | 'anomaly', count: number][] = [
    ['train', 'normal', options.normal ?? 25],
    ['train', 'anomaly', options.anomalous ?? 8],
    ['test', 'normal', options.testNormal ?? 10],
    ['test', 'anomaly', options.testAnomalous ?? 10],
  ];
  for (const [split, label, count] of plan) {
    const folder = join(dir, split, label);
    await mkdir(label === 'anomaly' ? join(folder, 'masks') : folder, { recursive: true });
    for (let k = 1; k <= count; k++) {
      const kind = label === 'anomaly' ? (k - 1) % classes.length : undefined;
      const part = options.scene === 'cast' ? renderCastPart(size, rand, kind) : renderPart(size, rand, kind);
      const name = `${label}-${k}`;
      const rel = `${split}/${label}/${name}.png`;
      await writeImage(join(dir, rel), part.image);
      const line: Record<string, unknown> = {
        'source-ref': rel,
        'anomaly-label': label === 'anomaly' ? 1 : 0,
        'anomaly-label-metadata': { 'class-name': label, type: 'groundtruth/image-classification', 'human-annotated': 'no' },
      };
      if (part.defect) {
        const maskRel = `${split}/${label}/masks/${name}.png`;
        await writeImage(join(dir, maskRel), paint(part.mask, size, classes));
        line['anomaly-mask-ref'] = maskRel;
        line['anomaly-mask-ref-metadata'] = {
          'internal-color-map': { '0': { 'class-name': 'BACKGROUND', 'hex-color': '#000000' }, '1': { 'class-name': part.defect.name, 'hex-color': part.defect.hexColor } },
          type: 'groundtruth/semantic-segmentation',
        };
      }
      manifests[split].push(JSON.stringify(line));
    }
  }
  const trainManifest = join(dir, 'train.manifest');
  const testManifest = join(dir, 'test.manifest');
  await writeFile(trainManifest, `${manifests.train.join('\n')}\n`);
  await writeFile(testManifest, `${manifests.test.join('\n')}\n`);
  return { dir, trainManifest, testManifest };
}

function paint(mask: Uint8Array, size: number, classes: readonly ModelClass[]): RgbImage {
  const px = new Uint8Array(size * size * 3);
  const cols = classes.map((c) => hexToRgb(c.hexColor));
  for (let i = 0; i < mask.length; i++) {
    const c = cols[mask[i]! - 1];
    if (!c) continue;
    px.set(c, i * 3);
  }
  return { width: size, height: size, pixels: px };
}
