// Loaded with `--import` (NODE_OPTIONS) into a process the throughput bench starts when BENCH_PROFILE is set:
// V8's sampling profiler from start to SIGTERM (or exit), written to $LOOKOUT_PROFILE_DIR/<command>-<pid>.cpuprofile.
// `--cpu-prof` would be simpler, but NODE_OPTIONS refuses it. Summarise with bench/profile-summary.ts.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import process from 'node:process';
import { isMainThread } from 'node:worker_threads';

const dir = process.env.LOOKOUT_PROFILE_DIR;
if (isMainThread && dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 250 });
  session.post('Profiler.start');
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    const command = process.argv.slice(2).find((a) => !a.includes('/')) ?? 'node';
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(join(dir, `${command}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  };
  process.prependListener('SIGTERM', write);
  process.on('exit', write);
}
