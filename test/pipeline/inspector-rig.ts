import { createLogger, type Logger } from '../../src/core/log.js';
import { type InspectorApp, startInspectorApp } from '../../src/main.js';
import type { HttpCamera } from '../peers/http-camera.js';
import { removeDir, type Script, startServer, tempDir, type TestServer, waitFor } from '../peers/edge-agent-peer.js';
import { greyCamera, inspectorConfig } from './kit.js';

/** The real inspector app on our edge agent (one scripted model `m1`), all its files in `dir`. */
export interface InspectorRig {
  readonly dir: string;
  readonly agent: TestServer;
  readonly app: InspectorApp;
  /** Stops the app and the agent, removes `dir`. */
  stop(): Promise<void>;
}

export interface InspectorRigOptions {
  readonly dirPrefix: string;
  /** The model's input size, and what the scripted runtime does (its score, its delay). */
  readonly model: { readonly width: number; readonly height: number; readonly script?: Script };
  /** More of the inference slice than its endpoint and model (callTimeoutMs). */
  readonly inference?: Record<string, unknown>;
  /** The rest of the configuration (cameras, plc, …); `dir` is the rig's own, for files it needs. */
  readonly config: (dir: string) => Record<string, unknown> | Promise<Record<string, unknown>>;
  readonly log?: Logger;
  /** Called as soon as the app has started, before the model is RUNNING (to miss no event). */
  readonly started?: (app: InspectorApp) => void;
}

/** Starts the agent and the app, resolving once the model is RUNNING; a failure on the way undoes what started. */
export async function startInspectorRig(o: InspectorRigOptions): Promise<InspectorRig> {
  const dir = await tempDir(o.dirPrefix);
  let agent: TestServer | undefined;
  let app: InspectorApp | undefined;
  const stop = async (): Promise<void> => {
    try {
      await app?.stop('test');
      await agent?.stop();
    } finally {
      await removeDir(dir);
    }
  };
  try {
    const { width, height, script } = o.model;
    agent = await startServer([{ component: 'm1', manifest: { input: { width, height } }, ...(script ? { script } : {}) }], { dir });
    const values = await o.config(dir);
    app = await startInspectorApp(inspectorConfig(dir, { inference: { endpoint: agent.address, modelComponent: 'm1', ...o.inference }, ...values }), {
      log: o.log ?? createLogger('silent'),
    });
    const started = app;
    o.started?.(started);
    await waitFor(() => started.inspector.status().model.status === 'RUNNING', 10_000, 'model RUNNING');
    return { dir, agent, app, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/** A rig whose one camera `cam1` is a grey HTTP camera at the model's size, triggered (by the PLC, MQTT, HTTP…). */
export interface GreyCameraRig extends InspectorRig {
  readonly camera: HttpCamera;
}

export interface GreyCameraRigOptions {
  readonly dirPrefix: string;
  /** The camera's grey level: the scripted runtime scores its red value unless `script.score` says. */
  readonly shade: number;
  readonly size: { readonly width: number; readonly height: number };
  readonly script?: Script;
  /** The configuration besides inference and the camera (thingName, publish, plc, status). */
  readonly config: (dir: string) => Record<string, unknown> | Promise<Record<string, unknown>>;
}

export async function startGreyCameraRig(o: GreyCameraRigOptions): Promise<GreyCameraRig> {
  const camera = await greyCamera(o.shade, o.size.width, o.size.height);
  try {
    const rig = await startInspectorRig({
      dirPrefix: o.dirPrefix,
      model: { ...o.size, ...(o.script ? { script: o.script } : {}) },
      config: async (dir) => ({
        cameras: [{ id: 'cam1', source: { type: 'http', url: `${camera.url}/snapshot.jpg` }, trigger: { enabled: true } }],
        ...(await o.config(dir)),
      }),
    });
    return {
      ...rig,
      camera,
      stop: async () => {
        try {
          await rig.stop();
        } finally {
          await camera.stop();
        }
      },
    };
  } catch (err) {
    await camera.stop();
    throw err;
  }
}
