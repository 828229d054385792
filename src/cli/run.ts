import { Command } from 'commander';
import { createLogger } from '../core/log.js';
import { startInspectorApp } from '../main.js';
import { type ConfigOptions, resolveConfig, withConfigOptions } from './config-options.js';
import { runUntilSignal } from './until-signal.js';

/** `lookout-edge run`: the inspector, until SIGINT or SIGTERM. */
export function runCommand(): Command {
  return withConfigOptions(new Command('run').description('run the inspector: cameras → model → verdicts → MQTT')).action(async (opts: ConfigOptions) => {
    const config = await resolveConfig(opts, process.env);
    const log = createLogger(config.logging.level);
    const app = await startInspectorApp(config, log);
    await runUntilSignal(app, log);
  });
}
