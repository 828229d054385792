import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { createEdgeAgentRpc } from '../../src/inference/adapters/grpc-channel.js';
import { EdgeAgentClient } from '../../src/inference/edge-agent-client.js';
import { MaskStore } from '../../src/masks/mask-store.js';
import { sharpMaskImages } from '../../src/masks/adapters/sharp-mask-images.js';
import { createSharpPreviewRenderer } from '../../src/pipeline/adapters/sharp-preview.js';
import { Inspector } from '../../src/pipeline/inspector.js';
import { ModelSupervisor } from '../../src/pipeline/model-supervisor.js';
import type { Inspection } from '../../src/pipeline/ports.js';
import { createPreprocessor } from '../../src/preprocess/create-preprocessor.js';
import { createFrameSource } from '../../src/sources/create-frame-source.js';
import { waitFor } from '../helpers/wait-for.js';
import type { HttpCamera } from '../peers/http-camera.js';
import { removeDir, startServer, tempDir, type TestServer } from '../peers/edge-agent-peer.js';
import { greyCamera, inspectorConfig } from './kit.js';

/**
 * The reject signal and PLC outputs (fast sinks) hear of a verdict the moment it exists, even while the
 * previous verdict's outbox write (a durable sink) has not finished; the durable sinks keep their order.
 */
describe('fast verdict sinks', () => {
  const log = createLogger('silent');
  let dir: string;
  let agent: TestServer;
  let camera: HttpCamera;
  let client: EdgeAgentClient;
  let masks: MaskStore;
  let inspector: Inspector;
  const signalled: string[] = [];
  const durable: string[] = [];
  const releases: Array<() => void> = [];
  let allDurable = false;

  beforeAll(async () => {
    dir = await tempDir('le-fast-sinks-');
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
      previews: createSharpPreviewRenderer(),
      sinks: [
        { name: 'plc', fast: true, accept: ({ verdict }: Inspection) => void signalled.push(verdict.partId ?? '?') },
        {
          name: 'outbox',
          required: true,
          // durable only when the test says so, as an fsync that takes its time
          accept: ({ verdict }: Inspection) =>
            allDurable ? undefined : new Promise<void>((resolve) => releases.push(() => resolve(void durable.push(verdict.partId ?? '?')))),
        },
      ],
      outboxStats: () => ({ depth: 0, bytes: 0, oldestAgeMs: null, evictions: 0, delivered: 0, writable: true }),
      log,
    });
    await inspector.start();
    await model.ensure();
  });

  afterAll(async () => {
    allDurable = true;
    for (const release of releases) release();
    await inspector?.stop();
    await client?.stop();
    await masks?.stop();
    await camera?.stop();
    await agent?.stop();
    await removeDir(dir);
  });

  it('signals the second verdict while the first one is still being made durable, and settles them in order', async () => {
    const first = inspector.inspectNow('cam1', 'p1');
    const second = inspector.inspectNow('cam1', 'p2');
    await waitFor(() => signalled.length === 2, 10_000, 'both verdicts signalled');
    expect(signalled).toEqual(['p1', 'p2']);
    expect(releases).toHaveLength(1); // p1's outbox write is pending; p2's waits for it
    expect(durable).toEqual([]);
    releases[0]?.();
    await waitFor(() => releases.length === 2, 10_000, "p2's outbox write");
    releases[1]?.();
    expect((await first).partId).toBe('p1');
    expect((await second).partId).toBe('p2');
    expect(durable).toEqual(['p1', 'p2']);
  }, 30_000);
});
