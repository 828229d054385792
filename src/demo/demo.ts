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
import { type DemoPlcs, startDemoPlcs } from './adapters/demo-plcs.js';
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
  /**
   * Adds the simulated PLCs that are installed (the pymodbus and node-opcua-server peers of test/peers) and
   * a camera `plc-line` they trigger: a part every second; reject pulses on the Modbus PLC's coil, verdicts on
   * the OPC UA PLC's nodes. Skipped with a note for a PLC that is missing.
   */
  readonly plc?: boolean;
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

    const plcs = options.plc ? await startDemoPlcs(join(dir, 'plc')) : undefined;
    if (plcs) stack.push({ stop: () => plcs.stop() });
    for (const note of plcs?.skipped ?? []) options.say(note);
    const plcLine = plcs ? plcCamera(plcs, model) : undefined;

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
            ...(plcLine ? [plcLine.camera] : []),
          ],
          ...(plcLine ? { plc: plcLine.plc } : {}),
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
    if (plcs && plcLine) {
      for (const line of plcLine.lines) options.say(line);
      // the line: a part passes the light barrier every second
      const parts = setInterval(() => void plcs.part().catch(() => undefined), 1_000);
      stack.push({ stop: async () => clearInterval(parts) });
    }
    return { app, config, model, broker, ...(app.statusUrl ? { statusUrl: `${app.statusUrl}/` } : {}), stop };
  } catch (err) {
    await stop('demo start-up failed');
    throw err;
  }
}

/** The camera the demo PLCs trigger, their `plc` configuration, and where they put what (for the terminal). */
function plcCamera(plcs: DemoPlcs, model: DemoModel): { camera: Record<string, unknown>; plc: Record<string, unknown>; lines: string[] } | undefined {
  const { modbus, opcua } = plcs;
  if (!modbus && !opcua) return undefined;
  const camera = 'plc-line';
  const lines: string[] = [];
  const plc: Record<string, unknown> = {};
  if (modbus) {
    plc.modbus = { host: modbus.host, port: modbus.port, reject: { coil: modbus.rejectCoil, pulseMs: 100, cameras: [camera] }, triggers: [{ camera, address: modbus.lightBarrier }] };
    lines.push(`PLC (Modbus TCP, pymodbus)           ${modbus.host}:${modbus.port}  light barrier on discrete input ${modbus.lightBarrier} triggers ${camera}; its reject pulses land on coil ${modbus.rejectCoil}`);
  }
  if (opcua) {
    const node = (name: string) => `ns=1;s=Line1.${name}`;
    plc.opcua = {
      endpointUrl: opcua.endpointUrl,
      securityMode: 'None',
      certificateFile: opcua.certificateFile,
      privateKeyFile: opcua.privateKeyFile,
      verdict: { outcome: node('Outcome'), score: node('Score'), partId: node('PartId'), timestamp: node('Timestamp'), camera: node('Camera'), cameras: [camera] },
      // one trigger per part: the Modbus light barrier when there is one
      triggers: modbus ? [] : [{ camera, nodeId: node('TriggerCount'), kind: 'counter' }],
    };
    lines.push(`PLC (OPC UA, node-opcua-server)      ${opcua.endpointUrl}  ${modbus ? '' : `part counter Line1.TriggerCount triggers ${camera}; `}its verdicts land on Line1.Outcome, .Score, .PartId, .Timestamp`);
  }
  return {
    camera: { id: camera, source: { type: 'folder', path: model.replayDirs[0], replay: true }, trigger: { enabled: true }, preprocess: { width: model.input.width, height: model.input.height } },
    plc,
    lines,
  };
}
