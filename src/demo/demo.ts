import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../core/log.js';
import { type InspectorApp, startInspectorApp } from '../main.js';
import { createGrpcEdgeAgentServer } from '../model-server/adapters/grpc-server.js';
import { EdgeAgentServer } from '../model-server/edge-agent-server.js';
import { loadModelEntries } from '../model-server/model-entries.js';
import { RUNTIMES } from '../model-server/runtimes/index.js';
import { type EmbeddedBroker, startEmbeddedBroker } from './adapters/embedded-broker.js';
import { startSimulatedGenicam } from './adapters/simulated-genicam.js';
import { type DemoModel, prepareDemoModel } from './demo-model.js';

export interface DemoOptions {
  /** Where the demo keeps its generated images, model, outbox and logs. */
  readonly dir: string;
  readonly statusPort: number;
  readonly brokerPort: number;
  readonly cameras: number;
  /** Frames per second per camera. */
  readonly fps: number;
  /**
   * Adds a GenICam camera (`gige-1`, free running Mono8): the one at `address`, or Aravis's simulated
   * GigE Vision camera started by the demo when it is installed (skipped with a note when not).
   */
  readonly genicam?: { readonly address?: string };
  readonly log: Logger;
  /** Progress lines for the person at the terminal. */
  readonly say: (line: string) => void;
}

export interface RunningDemo {
  readonly app: InspectorApp;
  readonly config: Readonly<Config>;
  readonly model: DemoModel;
  readonly broker: EmbeddedBroker;
  readonly statusUrl?: string;
  stop(reason: string): Promise<void>;
}

/**
 * The whole system on one machine with no camera and no AWS account: generated part images, the
 * built-in model trained on them, our Edge Agent server, an embedded MQTT broker, the inspector with
 * cameras replaying the generated images, and the status page.
 */
export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  const dir = resolve(options.dir);
  await mkdir(dir, { recursive: true });
  const model = await prepareDemoModel({ dir, log: options.log, say: options.say });

  const stack: Array<{ stop(reason: string): Promise<void> }> = [];
  const stop = async (reason: string) => {
    for (const part of stack.reverse()) await part.stop(reason).catch(() => undefined);
    stack.length = 0;
  };
  try {
    const broker = await startEmbeddedBroker({ port: options.brokerPort });
    stack.push({ stop: () => broker.stop() });
    options.say(`MQTT broker (embedded, MQTT 3.1.1)  mqtt://${broker.host}:${broker.port}`);

    let genicamAddress = options.genicam?.address;
    if (options.genicam && genicamAddress === undefined) {
      const simulated = await startSimulatedGenicam('/usr/bin/python3');
      if (simulated) {
        stack.push({ stop: () => simulated.stop() });
        genicamAddress = simulated.address;
        options.say(`GenICam camera (Aravis simulated)    ${simulated.address}  serial ${simulated.serial}`);
      } else {
        options.say('GenICam camera                       skipped: arv-fake-gv-camera-0.8 (aravis-tools) is not installed or port 3956 is taken');
      }
    }
    const genicamCameras =
      genicamAddress === undefined
        ? []
        : [
            {
              id: 'gige-1',
              source: { type: 'genicam', address: genicamAddress, pixelFormat: 'Mono8', roi: { x: 0, y: 0, width: 640, height: 480 }, fps: options.fps },
              preprocess: { width: model.input.width, height: model.input.height },
            },
          ];

    const config = loadConfig([
      {
        source: 'demo defaults',
        values: {
          thingName: 'demo-gateway',
          logging: { level: 'info' },
          // In a folder the model server creates 0700 (the demo folder may be group-writable under umask 002).
          modelServer: { socket: join(dir, 'run', 'edge-agent.sock'), models: [{ component: model.component, path: model.dir }] },
          inference: { endpoint: `unix://${join(dir, 'run', 'edge-agent.sock')}`, modelComponent: model.component },
          cameras: [
            ...Array.from({ length: options.cameras }, (_, i) => ({
              id: `line-${i + 1}`,
              source: { type: 'folder', path: model.replayDirs[i % model.replayDirs.length], replay: true, intervalMs: Math.round(1000 / options.fps) },
              preprocess: { width: model.input.width, height: model.input.height },
            })),
            ...genicamCameras,
          ],
          publish: {
            cloud: 'mqtt',
            local: 'mqtt',
            topicPrefix: 'lookout',
            mqtt: { port: broker.port, protocolVersion: 4, clientId: 'demo-gateway-cloud' },
            localMqtt: { port: broker.port, protocolVersion: 4, clientId: 'demo-gateway-local' },
            healthIntervalMs: 10_000,
          },
          outbox: { path: join(dir, 'outbox.sqlite') },
          masks: { dir: join(dir, 'masks') },
          evidence: { dir: join(dir, 'evidence') },
          status: { port: options.statusPort },
        },
      },
    ]);

    const entries = await loadModelEntries(config.modelServer, RUNTIMES);
    const server = new EdgeAgentServer({ config: config.modelServer, entries, log: options.log.child({ stage: 'model-server' }), createRpcServer: createGrpcEdgeAgentServer });
    await server.start();
    stack.push({ stop: (r) => server.stop(r) });
    options.say(`Edge Agent model server              ${server.address}  (model ${model.component})`);

    const app = await startInspectorApp(config, { log: options.log });
    stack.push(app);
    return { app, config, model, broker, ...(app.statusUrl ? { statusUrl: `${app.statusUrl}/` } : {}), stop };
  } catch (err) {
    await stop('demo start-up failed');
    throw err;
  }
}
