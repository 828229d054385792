import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RgbImage } from '../../src/core/image.js';
import { createSharpPreviewRenderer } from '../../src/pipeline/adapters/sharp-preview.js';
import { type PartsRig, startPartsRig } from './parts-rig.js';

/** Dashboard previews cost sharp work only when someone asks for one. */
describe('inspector previews on demand', () => {
  const sharpPreviews = createSharpPreviewRenderer();
  const rendered: string[] = [];
  let rig: PartsRig;
  let inspector: PartsRig['inspector'];

  beforeAll(async () => {
    rig = await startPartsRig({
      dirPrefix: 'le-preview-',
      sinks: [],
      previews: {
        render: (frame: RgbImage) => {
          rendered.push(`${frame.width}x${frame.height}`);
          return sharpPreviews.render(frame);
        },
      },
    });
    inspector = rig.inspector;
  });

  afterAll(async () => {
    await rig?.stop();
  });

  it('announces a preview with each due verdict, renders it on the first request only, and the next verdict replaces it', async () => {
    const announced: string[] = [];
    inspector.events.on('preview', (_camera, verdictId) => announced.push(verdictId));
    const first = await inspector.inspectNow('cam1', 'a');
    expect(announced).toEqual([first.id]);
    expect(rendered).toEqual([]);

    const [one, two] = await Promise.all([inspector.latestPreview('cam1'), inspector.latestPreview('cam1')]);
    expect(one?.verdictId).toBe(first.id);
    expect(two).toBe(one);
    expect(rendered).toEqual(['96x96']);
    expect(one?.jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));

    // A reject is always previewed (within the preview interval too): a bright frame scores 0.94.
    rig.camera.jpeg = await sharp({ create: { width: 96, height: 96, channels: 3, background: { r: 0xf0, g: 0xf0, b: 0xf0 } } }).jpeg().toBuffer();
    const second = await inspector.inspectNow('cam1', 'b');
    expect(second.outcome).toBe('reject');
    expect(announced).toEqual([first.id, second.id]);
    expect((await inspector.latestPreview('cam1'))?.verdictId).toBe(second.id);
    expect(rendered).toHaveLength(2);
    expect(await inspector.latestPreview('nope')).toBeUndefined();
  });
});
