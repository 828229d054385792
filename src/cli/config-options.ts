import type { Command } from 'commander';
import { type ConfigLayer, loadConfig, parseSetFlags, readConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { readGreengrassLayer } from '../greengrass/component-config.js';

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

/**
 * Layers: schema defaults < Greengrass component configuration (when running under a nucleus)
 * < the local file < CLI flags. `extra` sits between defaults and Greengrass (command-specific defaults).
 */
export async function resolveConfig(opts: ConfigOptions, env: NodeJS.ProcessEnv, extra: ConfigLayer[] = []): Promise<Readonly<Config>> {
  const layers: ConfigLayer[] = [...extra];
  if (env.AWS_IOT_THING_NAME) layers.push({ source: 'environment', values: { thingName: env.AWS_IOT_THING_NAME } });
  const greengrass = await readGreengrassLayer(env);
  if (greengrass) layers.push(greengrass);
  if (opts.config) layers.push(await readConfigFile(opts.config));
  layers.push(parseSetFlags(opts.set ?? []));
  if (opts.logLevel) layers.push({ source: 'flags', values: { logging: { level: opts.logLevel } } });
  return loadConfig(layers);
}
