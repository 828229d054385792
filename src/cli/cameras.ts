import { Command } from 'commander';
import { LookoutError } from '../core/errors.js';
import { discoverGenicamCameras } from '../sources/genicam/discover.js';

interface DiscoverOptions {
  genicam: boolean;
  python: string;
  timeout: string;
  json?: boolean;
}

/** `lookout-edge cameras discover --genicam [--json]`: the cameras this machine can reach. */
export function camerasCommand(): Command {
  const cmd = new Command('cameras').description('cameras reachable from this machine');
  cmd
    .command('discover')
    .description('list GenICam cameras (GigE Vision, USB3 Vision) through Aravis: vendor, model, serial, address; use serial or address as source.serial / source.address')
    .option('--genicam', 'GenICam cameras (the only kind listed for now)', true)
    .option('--python <path>', 'a Python with the Aravis bindings (python3-gi, gir1.2-aravis-0.8)', '/usr/bin/python3')
    .option('--timeout <ms>', 'give up after this long', '20000')
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: DiscoverOptions) => {
      const timeoutMs = Number(opts.timeout);
      if (!Number.isInteger(timeoutMs) || timeoutMs < 100) throw new LookoutError('USAGE', '--timeout must be a whole number of milliseconds, at least 100');
      const cameras = await discoverGenicamCameras({ pythonPath: opts.python, timeoutMs });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(cameras, null, 2)}\n`);
        return;
      }
      if (cameras.length === 0) {
        process.stdout.write('no GenICam cameras found\n');
        return;
      }
      const rows = [['vendor', 'model', 'serial', 'address', 'protocol'], ...cameras.map((c) => [c.vendor, c.model, c.serial, c.address, c.protocol])];
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
      for (const row of rows) process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()}\n`);
    });
  return cmd;
}
