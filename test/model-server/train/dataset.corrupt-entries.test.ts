import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLookoutError } from '../../../src/core/errors.js';
import { writeImage } from '../../../src/model-server/train/adapters/image-io.js';
import { readManifest } from '../../../src/model-server/train/manifest-reader.js';
import { renderPart } from '../../../src/model-server/train/synthetic.js';
import { mulberry } from '../../../src/model-server/train/coreset.js';
import { trainModel } from '../../../src/model-server/train/trainer.js';
import { readLabelledFolder } from '../../../src/model-server/train/folder-reader.js';

/** Broken manifests and images fail with DATASET_INVALID naming the line and the reason. */
describe('corrupt dataset entries', () => {
  let dir: string;
  const line = (ref: string, label: number | undefined, extra: Record<string, unknown> = {}): string =>
    JSON.stringify({ 'source-ref': ref, ...(label === undefined ? {} : { 'anomaly-label': label }), ...extra });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'le-corrupt-'));
    await mkdir(join(dir, 'images'));
    const rand = mulberry(5);
    for (let i = 0; i < 21; i++) await writeImage(join(dir, 'images', `n${i}.png`), renderPart(64, rand).image);
    await writeImage(join(dir, 'images', 'big.png'), renderPart(80, rand).image);
    await writeImage(join(dir, 'images', 'mask64.png'), { width: 64, height: 64, pixels: new Uint8Array(64 * 64 * 3) });
    await writeImage(join(dir, 'images', 'mask80.png'), { width: 80, height: 80, pixels: new Uint8Array(80 * 80 * 3) });
    await writeFile(join(dir, 'images', 'broken.png'), 'not a png');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function failure(lines: string[]): Promise<{ code: string; message: string }> {
    const file = join(dir, `m${Math.random().toString(36).slice(2)}.manifest`);
    await writeFile(file, lines.join('\n'));
    try {
      const entries = await readManifest(file);
      await trainModel(entries, { name: 't', version: '1', output: join(dir, 'out'), longestSide: 64 });
    } catch (err) {
      if (isLookoutError(err)) return { code: err.code, message: err.message };
      throw err;
    }
    throw new Error('expected a failure');
  }

  const normals = (): string[] => Array.from({ length: 21 }, (_, i) => line(`images/n${i}.png`, 0));

  it('a line that is not JSON', async () => {
    const f = await failure([...normals().slice(0, 2), '{"source-ref": "images/n0.png", ', ...normals().slice(2)]);
    expect(f.code).toBe('DATASET_INVALID');
    expect(f.message).toMatch(/line 3: not valid JSON/);
  });

  it('a missing image file', async () => {
    const f = await failure([...normals(), line('images/nope.png', 0)]);
    expect(f.message).toMatch(/line 22: missing file images\/nope\.png/);
  });

  it('a missing label', async () => {
    const f = await failure([line('images/n0.png', undefined), ...normals()]);
    expect(f.message).toMatch(/line 1: missing label/);
  });

  it('an s3:// reference without --s3-root', async () => {
    const f = await failure([line('s3://bucket/images/n0.png', 0)]);
    expect(f.message).toMatch(/line 1: .*--s3-root/);
  });

  it('an image of the wrong size', async () => {
    const f = await failure([...normals().slice(0, 5), line('images/big.png', 0), ...normals().slice(5)]);
    expect(f.message).toMatch(/line 6: wrong size: image is 80x80 .* 64x64/);
  });

  it('a mask of the wrong size', async () => {
    const f = await failure([...normals(), line('images/n1.png', 1, { 'anomaly-mask-ref': 'images/mask80.png' })]);
    expect(f.message).toMatch(/line 22: wrong size: mask is 80x80, image is 64x64/);
  });

  it('an undecodable image', async () => {
    const f = await failure([...normals(), line('images/broken.png', 0)]);
    expect(f.message).toMatch(/line 22: cannot decode image/);
  });

  it('a bad colour map', async () => {
    const bad = { 'anomaly-mask-ref': 'images/mask64.png', 'anomaly-mask-ref-metadata': { 'internal-color-map': { '0': { 'class-name': 'x', 'hex-color': 'green' } } } };
    const f = await failure([...normals(), line('images/n1.png', 1, bad)]);
    expect(f.message).toMatch(/line 22: "internal-color-map" entry 0/);
  });

  it('too few normal images', async () => {
    const f = await failure(normals().slice(0, 19));
    expect(f.message).toMatch(/at least 20 normal images, the dataset has 19/);
  });

  it('maps s3:// references into --s3-root', async () => {
    const file = join(dir, 's3.manifest');
    await writeFile(file, line('s3://my-bucket/images/n3.png', 0));
    const [e] = await readManifest(file, { s3Root: dir });
    expect(e!.image).toBe(join(dir, 'images', 'n3.png'));
  });

  it('a labelled folder needs the label in each name', async () => {
    await expect(readLabelledFolder(join(dir, 'images'))).rejects.toThrow(/cannot tell the label/);
  });
});
