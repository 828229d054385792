import { createLogger } from '../../src/core/log.js';
import { createEdgeAgentRpc } from '../../src/inference/adapters/grpc-channel.js';
import { EdgeAgentClient } from '../../src/inference/edge-agent-client.js';
import { sharpMaskImages } from '../../src/masks/adapters/sharp-mask-images.js';
import { MaskStore } from '../../src/masks/mask-store.js';
import { createSharpPreviewRenderer } from '../../src/pipeline/adapters/sharp-preview.js';
import { Inspector } from '../../src/pipeline/inspector.js';
import { ModelSupervisor } from '../../src/pipeline/model-supervisor.js';
import type { PreviewRenderer, VerdictSink } from '../../src/pipeline/ports.js';
import { createPreprocessor } from '../../src/preprocess/create-preprocessor.js';
import { createFrameSource } from '../../src/sources/create-frame-source.js';
import { removeDir, type Script, startServer, tempDir } from '../peers/edge-agent-peer.js';
import type { HttpCamera } from '../peers/http-camera.js';
import { greyCamera, inspectorConfig } from './kit.js';

/**
 * The Inspector built from its real parts, without the app around it, for tests that give it their own
 * verdict sinks or preview renderer: one triggered grey HTTP camera `cam1` (shade 0x20, 96×96) on our
 * edge agent's scripted model `m1`. (inspector-rig.ts starts the whole app instead.)
 */
export interface PartsRig {
  readonly inspector: Inspector;
  /** The masks directory. */
  readonly masksDir: string;
  /** Its `jpeg` is what the next capture gets. */
  readonly camera: HttpCamera;
  /** Stops the inspector and every part, removes the files. */
  stop(): Promise<void>;
}

export interface PartsRigOptions {
  readonly dirPrefix: string;
  readonly sinks: readonly VerdictSink[];
  /** Default: the sharp renderer the app uses. */
  readonly previews?: PreviewRenderer;
  /** How `m1` answers (default: the grey frame's score, no mask). */
  readonly script?: Script;
  /** `m1`'s defect classes (default none; a segmenting script paints the first). */
  readonly classes?: ReadonlyArray<{ name: string; hexColor: string }>;
}

export async function startPartsRig(o: PartsRigOptions): Promise<PartsRig> {
  const log = createLogger('silent');
  const dir = await tempDir(o.dirPrefix);
  const stops: Array<() => Promise<void>> = [() => removeDir(dir)];
  const stop = async (): Promise<void> => {
    for (const step of stops.splice(0).reverse()) await step().catch(() => undefined);
  };
  try {
    const agent = await startServer([{ component: 'm1', script: o.script ?? {}, manifest: { input: { width: 96, height: 96 }, classes: [...(o.classes ?? [])] } }], { dir });
    stops.push(() => agent.stop());
    const camera = await greyCamera(0x20);
    stops.push(() => camera.stop());
    const config = inspectorConfig(dir, {
      inference: { endpoint: agent.address, modelComponent: 'm1' },
      cameras: [{ id: 'cam1', source: { type: 'http', url: `${camera.url}/snapshot.jpg` }, trigger: { enabled: true } }],
    });
    const client = new EdgeAgentClient({ connect: createEdgeAgentRpc, config: config.inference, log });
    await client.start();
    stops.push(() => client.stop());
    const masks = new MaskStore({ config: config.masks, log, images: sharpMaskImages });
    await masks.start();
    stops.push(() => masks.stop());
    const model = new ModelSupervisor({ client, config: config.inference, log });
    const inspector = new Inspector({
      thingName: 'gw',
      cameras: config.cameras,
      decideRules: config.decide,
      createSource: createFrameSource,
      createPreprocessor: (cam) => createPreprocessor(cam.preprocess),
      inference: client,
      model,
      masks,
      previews: o.previews ?? createSharpPreviewRenderer(),
      sinks: o.sinks,
      outboxStats: () => ({ depth: 0, bytes: 0, oldestAgeMs: null, evictions: 0, delivered: 0, writable: true }),
      log,
    });
    await inspector.start();
    stops.push(() => inspector.stop());
    await model.ensure();
    return { inspector, camera, masksDir: config.masks.dir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
