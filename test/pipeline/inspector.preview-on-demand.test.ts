import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import type { RgbImage } from '../../src/core/image.js';
import { createEdgeAgentRpc } from '../../src/inference/adapters/grpc-channel.js';
import { EdgeAgentClient } from '../../src/inference/edge-agent-client.js';
import { MaskStore } from '../../src/masks/mask-store.js';
import { sharpMaskImages } from '../../src/masks/adapters/sharp-mask-images.js';
import { createSharpPreviewRenderer } from '../../src/pipeline/adapters/sharp-preview.js';
import { Inspector } from '../../src/pipeline/inspector.js';
import { ModelSupervisor } from '../../src/pipeline/model-supervisor.js';
import { createPreprocessor } from '../../src/preprocess/create-preprocessor.js';
import { createFrameSource } from '../../src/sources/create-frame-source.js';
import type { HttpCamera } from '../peers/http-camera.js';
import { removeDir, startServer, tempDir, type TestServer } from '../peers/edge-agent-peer.js';
import { greyCamera, inspectorConfig } from './kit.js';

/** Dashboard previews cost sharp work only when someone asks for one. */
describe('inspector previews on demand', () => {
  const log = createLogger('silent');
  const sharpPreviews = createSharpPreviewRenderer();
  const rendered: string[] = [];
  let dir: string;
  let agent: TestServer;
  let camera: HttpCamera;
  let client: EdgeAgentClient;
  let masks: MaskStore;
  let inspector: Inspector;

  beforeAll(async () => {
    dir = await tempDir('le-preview-');
    agent = await startServer([{ component: 'm1', script: {}, manifest: { input: { width: 96, height: 96 } } }], { dir });
    camera = await greyCamera(0x20);
    const config = inspectorConfig(dir, {
      inference: { endpoint: agent.address, modelComponent: 'm1' },
      cameras: [{ id: 'cam1', source: { type: 'http', url: `${camera.url}/snapshot.jpg` }, trigger: { enabled: true } }],
    });
    client = new EdgeAgentClient({ connect: createEdgeAgentRpc, config: config.inference, log });
    await client.start();
    masks = new MaskStore({ config: config.masks, log, images: sharpMaskImages });
    await masks.start();
    const model = new ModelSupervisor({ client, config: config.inference, log });
    inspector = new Inspector({
      thingName: 'gw',
      cameras: config.cameras,
      decideRules: config.decide,
      createSource: createFrameSource,
      createPreprocessor: (cam) => createPreprocessor(cam.preprocess),
      inference: client,
      model,
      masks,
      previews: {
        render: (frame: RgbImage) => {
          rendered.push(`${frame.width}x${frame.height}`);
          return sharpPreviews.render(frame);
        },
      },
      sinks: [],
      outboxStats: () => ({ depth: 0, bytes: 0, oldestAgeMs: null, evictions: 0, delivered: 0, writable: true }),
      log,
    });
    await inspector.start();
    await model.ensure();
  });

  afterAll(async () => {
    await inspector?.stop();
    await client?.stop();
    await masks?.stop();
    await camera?.stop();
    await agent?.stop();
    await removeDir(dir);
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
    camera.jpeg = await sharp({ create: { width: 96, height: 96, channels: 3, background: { r: 0xf0, g: 0xf0, b: 0xf0 } } }).jpeg().toBuffer();
    const second = await inspector.inspectNow('cam1', 'b');
    expect(second.outcome).toBe('reject');
    expect(announced).toEqual([first.id, second.id]);
    expect((await inspector.latestPreview('cam1'))?.verdictId).toBe(second.id);
    expect(rendered).toHaveLength(2);
    expect(await inspector.latestPreview('nope')).toBeUndefined();
  });
});
