import { arch } from 'node:os';
import { NucleusRuntime } from './nucleus.js';
import type { ProcessEnd } from './processes.js';
import type { State } from './service.js';
import { defaultComponentUser } from './users.js';
import type { IpcLogEntry } from './ipc-server.js';

/**
 * A Greengrass v2 nucleus emulator for tests: deploys recipes (from a CloudSide), runs their lifecycles as real
 * processes under a non-root user, serves IPC on a Unix socket for the real aws-iot-device-sdk-v2 client, and relays
 * IoT Core MQTT through an IotCoreSide. Written from the developer guide and the nucleus's public source; each module
 * lists the facts it implements and where they come from.
 */

export interface CloudSide {
  getRecipe(name: string, version: string): Promise<string>;
  getArtifact(uri: string): Promise<Buffer>;
  /** Optional: versions the service offers, for dependencies the deployment does not pin. */
  listComponentVersions?(name: string): Promise<string[]>;
}

export interface IotCoreSide {
  publish(topic: string, payload: Buffer, opts: { qos: 0 | 1; retain: boolean }): Promise<void>;
  subscribe(filter: string, onMessage: (topic: string, payload: Buffer) => void): Promise<() => Promise<void>>;
}

export interface NucleusOptions {
  root: string;
  thingName: string;
  platform?: { os: 'linux'; architecture: string };
  /**
   * The nucleus component's configuration: `interpolateComponentConfiguration` (default false) and the spooler's
   * `mqtt.spooler.maxSizeInBytes` (default 2.5 MB); its version (default 2.14.3) is what recipes' dependencies on
   * aws.greengrass.Nucleus are checked against.
   */
  nucleusConfiguration?: { interpolateComponentConfiguration?: boolean; spoolerMaxBytes?: number; version?: string };
  cloud: CloudSide;
  iotCore: IotCoreSide;
  runAs?: { user: string; group: string };
  env?: Record<string, string>;
  /** AWS_REGION given to components (default us-east-1). */
  region?: string;
  /** How long a deployment may take to settle (default 120 s). */
  deploymentTimeoutMs?: number;
}

export interface DeploymentDocument {
  deploymentId: string;
  components: Record<string, { componentVersion: string; configurationUpdate?: { merge?: string; reset?: string[] }; runWith?: { posixUser?: string } }>;
  failureHandlingPolicy?: 'ROLLBACK' | 'DO_NOTHING';
}

export interface DeploymentOutcome {
  deploymentId: string;
  status: 'SUCCEEDED' | 'FAILED';
  rolledBack: boolean;
  reason?: string;
}

export type ComponentState = State;

export interface Nucleus {
  readonly root: string;
  readonly socketPath: string;
  /** Who components run as, and notes (non-root fallback, interpolation warnings). */
  readonly runAs: { user: string; group: string; uid: number; gid: number };
  readonly notes: string[];
  readonly ipcLog: IpcLogEntry[];
  deploy(doc: DeploymentDocument): Promise<DeploymentOutcome>;
  state(name: string): ComponentState | undefined;
  /** Every state the component went through, in order. */
  stateHistory(name: string): ComponentState[];
  waitForState(name: string, state: ComponentState, timeoutMs?: number): Promise<void>;
  logs(name: string): string;
  configuration(name: string): Record<string, unknown> | undefined;
  installedVersion(name: string): string | undefined;
  /** How each lifecycle process of the component ended (exit code / signal / killed after the 5 s grace). */
  processEnds(name: string): ProcessEnd[];
  /** The SVCUID the component's processes get. */
  svcuid(name: string): string | undefined;
  restart(name: string): void;
  stop(): Promise<void>;
}

function hostArchitecture(): string {
  const a = arch();
  return a === 'x64' ? 'amd64' : a === 'arm64' ? 'aarch64' : a === 'arm' ? 'arm' : a;
}

export async function startNucleus(options: NucleusOptions): Promise<Nucleus> {
  const notes: string[] = [];
  const { runAs, note } = defaultComponentUser(options.runAs);
  if (note) notes.push(note);
  const runtime = new NucleusRuntime({
    root: options.root,
    thingName: options.thingName,
    region: options.region ?? 'us-east-1',
    platform: options.platform ?? { os: 'linux', architecture: hostArchitecture() },
    interpolateComponentConfiguration: options.nucleusConfiguration?.interpolateComponentConfiguration ?? false,
    nucleusVersion: options.nucleusConfiguration?.version ?? '2.14.3',
    spoolerMaxBytes: options.nucleusConfiguration?.spoolerMaxBytes ?? 2.5 * 1024 * 1024,
    defaultRunAs: runAs,
    env: options.env ?? { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin' },
    getRecipe: (n, v) => options.cloud.getRecipe(n, v),
    ...(options.cloud.listComponentVersions ? { listVersions: (n: string) => (options.cloud.listComponentVersions as (n: string) => Promise<string[]>)(n) } : {}),
    getArtifact: (uri) => options.cloud.getArtifact(uri),
    publish: (t, p, o) => options.iotCore.publish(t, p, o),
    subscribe: (f, cb) => options.iotCore.subscribe(f, cb),
    deploymentTimeoutMs: options.deploymentTimeoutMs ?? 120_000,
    notes,
  });
  await runtime.start();
  return {
    root: options.root,
    socketPath: runtime.socketPath,
    runAs,
    notes,
    get ipcLog() {
      return runtime.ipcLog;
    },
    deploy: (doc) => runtime.deploy(doc),
    state: (name) => runtime.services.get(name)?.state,
    stateHistory: (name) => runtime.services.get(name)?.history.map((h) => h.state) ?? [],
    waitForState: (name, state, timeoutMs = 20_000) => runtime.waitUntil(() => runtime.services.get(name)?.state === state, timeoutMs, `${name} to be ${state}`),
    logs: (name) => runtime.logs(name),
    configuration: (name) => {
      const c = runtime.services.get(name)?.def.configuration;
      return c ? structuredClone(c) : undefined;
    },
    installedVersion: (name) => runtime.services.get(name)?.def.version,
    processEnds: (name) => runtime.ends(name),
    svcuid: (name) => runtime.tokenOf(name),
    restart: (name) => runtime.restart(name),
    stop: () => runtime.stop(),
  };
}

export { connectMqttIotCore, type MqttIotCore, type MqttIotCoreOptions } from './iot-core-mqtt.js';
export type { ProcessEnd } from './processes.js';
export type { IpcLogEntry } from './ipc-server.js';
