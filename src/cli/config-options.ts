import { isAbsolute } from 'node:path';
import type { Command } from 'commander';
import { type ConfigLayer, greengrassLayer, loadConfig, parseSetFlags, readConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { defaultEdgeAgentSocket } from '../config/slices/edge-agent-socket.js';
import { underGreengrass } from '../greengrass/component-config.js';

export interface ConfigOptions {
  config?: string;
  set?: string[];
  logLevel?: string;
}

/** The options every command that reads configuration shares. */
export function withConfigOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'local configuration file (JSON or YAML)')
    .option('--set <key=value>', 'override one key, e.g. --set status.port=9090 (repeatable)', collect, [])
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent');
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The configuration and the layers it came from, split around the Greengrass layer (live updates replace it). */
export interface ResolvedConfig {
  readonly config: Readonly<Config>;
  /** Layers below the Greengrass configuration (environment). */
  readonly below: readonly ConfigLayer[];
  /** Layers above it (the local file, then flags). */
  readonly above: readonly ConfigLayer[];
}

/**
 * The environment layer: AWS_IOT_THING_NAME → thingName (set by the nucleus), LOOKOUT_EDGE_MODEL_REGISTRY →
 * modelServer.registryDir (set by the model server recipe's Setenv to {work:path}/model-registry), and the
 * Edge Agent socket for both sides: LOOKOUT_EDGE_SOCKET (set by both recipes' Setenv), else the private
 * default (defaultEdgeAgentSocket) → modelServer.socket and inference.endpoint.
 */
export function environmentLayer(env: NodeJS.ProcessEnv, uid: number): ConfigLayer {
  const socket = defaultEdgeAgentSocket(env, uid);
  const values: Record<string, unknown> = {
    modelServer: { socket, ...(env.LOOKOUT_EDGE_MODEL_REGISTRY ? { registryDir: env.LOOKOUT_EDGE_MODEL_REGISTRY } : {}) },
    inference: { endpoint: isAbsolute(socket) ? `unix://${socket}` : `unix:${socket}` },
  };
  if (env.AWS_IOT_THING_NAME) values.thingName = env.AWS_IOT_THING_NAME;
  return { source: 'environment', values };
}

/**
 * The component configuration as a config layer, read once over a nucleus connection opened for it;
 * undefined outside Greengrass. The IPC adapter (and aws-iot-device-sdk-v2 with it) loads only here.
 */
export async function readGreengrassLayer(env: NodeJS.ProcessEnv): Promise<ConfigLayer | undefined> {
  if (!underGreengrass(env)) return undefined;
  const { closeIpc, connectIpc, getComponentConfiguration } = await import('../greengrass/adapters/ipc-connection.js');
  const client = await connectIpc(env);
  try {
    return greengrassLayer(await getComponentConfiguration(client));
  } finally {
    await closeIpc(client);
  }
}

/**
 * Layers: schema defaults < environment (see environmentLayer) < Greengrass component configuration (when
 * running under a nucleus) < the local file < CLI flags. `greengrass` reads the component configuration
 * over an existing nucleus connection; without it, one is opened just for this read when under Greengrass.
 */
export async function resolveConfigLayers(opts: ConfigOptions, env: NodeJS.ProcessEnv, greengrass?: () => Promise<unknown>): Promise<ResolvedConfig> {
  const below: ConfigLayer[] = [environmentLayer(env, process.getuid?.() ?? 0)];
  const gg = greengrass ? greengrassLayer(await greengrass()) : await readGreengrassLayer(env);
  const above: ConfigLayer[] = [];
  if (opts.config) above.push(await readConfigFile(opts.config));
  above.push(parseSetFlags(opts.set ?? []));
  if (opts.logLevel) above.push({ source: 'flags', values: { logging: { level: opts.logLevel } } });
  return { config: loadConfig([...below, ...(gg ? [gg] : []), ...above]), below, above };
}

export async function resolveConfig(opts: ConfigOptions, env: NodeJS.ProcessEnv): Promise<Readonly<Config>> {
  return (await resolveConfigLayers(opts, env)).config;
}
