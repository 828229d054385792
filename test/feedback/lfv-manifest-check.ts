import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';

/**
 * An independent reading of a Lookout for Vision manifest (SageMaker Ground Truth JSON Lines), written
 * from the format notes, to check what the export writes: every rule is asserted, the lines returned.
 */
export interface CheckedLine {
  readonly sourceRef: string;
  readonly label: 0 | 1;
  readonly maskRef?: string;
  readonly colorMap?: Record<string, { 'class-name': string; 'hex-color': string }>;
  /** Distinct mask colours other than black, as #RRGGBB. */
  readonly maskColours?: string[];
  readonly width: number;
  readonly height: number;
}

export async function checkLfvManifest(datasetRoot: string, manifestPath: string): Promise<CheckedLine[]> {
  const text = await readFile(manifestPath, 'utf8');
  const out: CheckedLine[] = [];
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  for (const [n, raw] of lines.entries()) {
    const where = `line ${n + 1}`;
    const line = JSON.parse(raw) as Record<string, unknown>;
    const fail = (why: string): never => {
      throw new Error(`${where}: ${why}`);
    };
    const sourceRef = line['source-ref'];
    if (typeof sourceRef !== 'string' || sourceRef.startsWith('/') || sourceRef.includes('..')) fail('source-ref must be a relative path');
    const label = line['anomaly-label'];
    if (label !== 0 && label !== 1) fail('anomaly-label must be 0 or 1');
    const meta = line['anomaly-label-metadata'] as Record<string, unknown> | undefined;
    if (meta?.type !== 'groundtruth/image-classification') fail('anomaly-label-metadata.type');
    if (meta?.['class-name'] !== (label === 1 ? 'anomaly' : 'normal')) fail('class-name must match the label');
    const imagePath = join(datasetRoot, sourceRef as string);
    if (!existsSync(imagePath)) fail(`image ${sourceRef} missing`);
    const info = await sharp(imagePath).metadata();
    if (info.format !== 'jpeg' && info.format !== 'png') fail('images are JPEG or PNG');
    const width = info.width!;
    const height = info.height!;
    if (width < 64 || height < 64 || width > 4096 || height > 4096) fail('image size outside 64-4096');
    const result: { -readonly [K in keyof CheckedLine]: CheckedLine[K] } = { sourceRef: sourceRef as string, label: label as 0 | 1, width, height };
    const maskRef = line['anomaly-mask-ref'];
    if (maskRef !== undefined) {
      if (label !== 1) fail('only anomalies carry masks');
      if (typeof maskRef !== 'string' || maskRef.startsWith('/')) fail('anomaly-mask-ref must be a relative path');
      const maskMeta = line['anomaly-mask-ref-metadata'] as Record<string, unknown> | undefined;
      if (maskMeta?.type !== 'groundtruth/semantic-segmentation') fail('anomaly-mask-ref-metadata.type');
      const map = maskMeta?.['internal-color-map'] as CheckedLine['colorMap'];
      if (!map || Object.keys(map).length === 0) fail('internal-color-map missing');
      for (const [k, v] of Object.entries(map!)) {
        if (!/^\d+$/.test(k) || typeof v['class-name'] !== 'string' || !/^#[0-9A-Fa-f]{6}$/.test(v['hex-color'])) fail(`bad color map entry ${k}`);
      }
      const { data, info: m } = await sharp(join(datasetRoot, maskRef as string)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      if (m.width !== width || m.height !== height) fail('mask size differs from the image');
      const colours = new Set<string>();
      for (let i = 0; i < data.length; i += 3) {
        if (data[i] || data[i + 1] || data[i + 2]) colours.add(`#${[data[i]!, data[i + 1]!, data[i + 2]!].map((c) => c.toString(16).padStart(2, '0')).join('').toUpperCase()}`);
      }
      const mapped = new Set(Object.values(map!).map((v) => v['hex-color'].toUpperCase()));
      for (const c of colours) if (!mapped.has(c)) fail(`mask colour ${c} is not in the color map`);
      Object.assign(result, { maskRef, colorMap: map, maskColours: [...colours].sort() });
    }
    out.push(result);
  }
  return out;
}
