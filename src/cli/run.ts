import { Command } from 'commander';
import { createLogger } from '../core/log.js';
import { InspectorService } from '../inspector-service.js';
import { type ConfigOptions, resolveConfigLayers, withConfigOptions } from './config-options.js';
import { reportingErrored, withNucleus } from './nucleus-session.js';
import { runUntilSignal } from './until-signal.js';

/** `lookout-edge run`: the inspector, until SIGINT or SIGTERM. */
export function runCommand(): Command {
  return withConfigOptions(new Command('run').description('run the inspector: cameras → model → verdicts → MQTT')).action(async (opts: ConfigOptions) =>
    withNucleus(opts.logLevel, async (ipc) => {
      const resolved = await reportingErrored(ipc, resolveConfigLayers(opts, process.env, ipc ? () => ipc.getConfiguration([]) : undefined));
      const log = createLogger(resolved.config.logging.level);
      const service = new InspectorService({ resolved, log, ...(ipc ? { ipc } : {}) });
      await service.start();
      await runUntilSignal(service, log);
    }),
  );
}
