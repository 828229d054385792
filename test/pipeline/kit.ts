import { join } from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { HttpCamera } from '../peers/http-camera.js';

/**
 * A validated inspector configuration for tests: everything the inspector writes stays in `dir`, the
 * status page is off unless `values` turns it on.
 */
export function inspectorConfig(dir: string, values: Record<string, unknown>): Readonly<Config> {
  return loadConfig([
    {
      source: 'test',
      values: {
        outbox: { path: join(dir, 'outbox.sqlite') },
        masks: { dir: join(dir, 'masks') },
        evidence: { dir: join(dir, 'evidence') },
        status: { enabled: false },
        ...values,
      },
    },
  ]);
}

/** A real HTTP camera whose snapshot is a uniform grey frame (the scripted runtime scores its red value). */
export async function greyCamera(shade: number, width = 96, height = 96): Promise<HttpCamera> {
  const camera = new HttpCamera(await sharp({ create: { width, height, channels: 3, background: { r: shade, g: shade, b: shade } } }).jpeg().toBuffer());
  await camera.start();
  return camera;
}
