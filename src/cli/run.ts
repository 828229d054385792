import { Command } from 'commander';
import { createLogger } from '../core/log.js';
import { underGreengrass } from '../greengrass/component-config.js';
import { InspectorService } from '../inspector-service.js';
import { type ConfigOptions, resolveConfigLayers, withConfigOptions } from './config-options.js';
import { exitUnlessDrainedWithin, runUntilSignal } from './until-signal.js';

/** `lookout-edge run`: the inspector, until SIGINT or SIGTERM. */
export function runCommand(): Command {
  return withConfigOptions(new Command('run').description('run the inspector: cameras → model → verdicts → MQTT')).action(async (opts: ConfigOptions) => {
    const env = process.env;
    const bootLog = createLogger(opts.logLevel === undefined ? 'info' : (opts.logLevel as 'info'));
    // Under Greengrass one nucleus connection serves configuration, publishing and state.
    // Loaded only there: the IPC client (aws-iot-device-sdk-v2, native aws-crt) is heavy in memory.
    const ipc = underGreengrass(env)
      ? new (await import('../greengrass/adapters/ipc-client.js')).GreengrassIpc({ log: bootLog.child({ stage: 'greengrass' }), env, callTimeoutMs: 10_000 })
      : undefined;
    await ipc?.start();
    try {
      const resolved = await resolveConfigLayers(opts, env, ipc ? () => ipc.getConfiguration([]) : undefined).catch(async (err: unknown) => {
        await ipc?.updateState('ERRORED').catch(() => undefined);
        throw err;
      });
      const log = createLogger(resolved.config.logging.level);
      const service = new InspectorService({ resolved, log, ...(ipc ? { ipc } : {}) });
      await service.start();
      await runUntilSignal(service, log);
    } finally {
      await ipc?.stop('exit');
      exitUnlessDrainedWithin();
    }
  });
}
