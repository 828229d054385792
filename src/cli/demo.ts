import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { createLogger } from '../core/log.js';
import { runUntilSignal } from './until-signal.js';

interface DemoFlags {
  dir: string;
  port: number;
  brokerPort: number;
  cameras: number;
  fps: number;
  genicam?: string | boolean;
  plc?: boolean;
  logLevel: string;
}

/**
 * `lookout-edge demo`: everything locally on generated images. Logs go to `<dir>/demo.log` so the
 * terminal shows the URLs and a live count of verdicts; Ctrl-C stops everything cleanly.
 */
export function demoCommand(): Command {
  return new Command('demo')
    .description('run the whole system locally: generated images, the built-in model, our model server, an embedded MQTT broker and the status page')
    .addOption(new Option('--dir <dir>', 'working directory for images, model, outbox and logs').default('.lookout-edge/demo'))
    .addOption(new Option('--port <port>', 'status page port (loopback)').default(8080).argParser(Number))
    .addOption(new Option('--broker-port <port>', 'embedded MQTT broker port (loopback)').default(1883).argParser(Number))
    .addOption(new Option('--cameras <n>', 'replaying cameras').default(2).argParser(Number))
    .addOption(new Option('--fps <n>', 'frames per second per camera').default(2).argParser(Number))
    .addOption(new Option('--genicam [address]', "add a GenICam camera: the one at address, or Aravis's simulated GigE Vision camera (aravis-tools)"))
    .addOption(new Option('--no-plc', 'leave out the simulated PLCs (Modbus TCP, OPC UA) and the camera they trigger'))
    .addOption(new Option('--log-level <level>', 'level of the log file').default('info'))
    .action(async (flags: DemoFlags) => {
      await mkdir(flags.dir, { recursive: true });
      const logFile = join(flags.dir, 'demo.log');
      const log = createLogger(flags.logLevel as 'info', createWriteStream(logFile, { flags: 'a' }));
      const say = (line: string) => process.stdout.write(`${line}\n`);
      say('lookout-edge demo: everything local, no camera and no AWS account needed.');
      // The demo (the embedded broker, the model server, the PLC peers) loads only for this command.
      const { startDemo } = await import('../demo/demo.js');
      const demo = await startDemo({ dir: flags.dir, statusPort: flags.port, brokerPort: flags.brokerPort, cameras: flags.cameras, fps: flags.fps, plc: flags.plc !== false, log, say, ...genicamOption(flags.genicam) });
      if (demo.statusUrl) say(`Status page                          ${demo.statusUrl}`);
      say(`Verdict topics                       mosquitto_sub -p ${demo.broker.port} -t 'lookout/#' -v`);
      say(`Logs                                 ${logFile}`);
      say('Ctrl-C stops everything.\n');

      const live = process.stdout.isTTY;
      const ticker = setInterval(() => {
        const s = demo.app.inspector.status();
        const totals = s.cameras.reduce((acc, c) => ({ pass: acc.pass + c.counts.pass, reject: acc.reject + c.counts.reject, errors: acc.errors + c.counts.errors }), { pass: 0, reject: 0, errors: 0 });
        const line = `verdicts: ${totals.pass + totals.reject}  pass ${totals.pass}  reject ${totals.reject}  errors ${totals.errors}  model ${s.model.status}  outbox ${s.outbox.depth}  p50 ${s.latency.total?.p50.toFixed(1) ?? '-'} ms`;
        process.stdout.write(live ? `\r${line}   ` : `${line}\n`);
      }, live ? 500 : 5_000);
      ticker.unref();
      await runUntilSignal(
        {
          stop: async (reason) => {
            clearInterval(ticker);
            say('\nstopping…');
            await demo.stop(reason);
            say('stopped cleanly.');
          },
        },
        log,
        // The demo runs its own model server and broker too; no nucleus is waiting to SIGKILL it.
        15_000,
      );
    });
}

function genicamOption(flag: string | boolean | undefined): { genicam?: { address?: string } } {
  if (flag === undefined || flag === false) return {};
  return { genicam: typeof flag === 'string' ? { address: flag } : {} };
}
