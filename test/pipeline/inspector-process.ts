import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FROM_SOURCE } from '../helpers/cli-entry.js';

/**
 * `lookout-edge run` as a child process, as the nucleus runs it (its own pid, its own heap, killable with
 * SIGKILL), configured by a JSON file. Keeps the newest log lines for failure messages and counts the
 * lines at error level or above; a long run's output is not held in memory.
 */

const root = new URL('../../', import.meta.url).pathname;
const KEPT_LINES = 200;

export interface InspectorProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The newest log lines, parsed (at most 200). */
  readonly recent: Array<Record<string, unknown>>;
  /** Log lines at error level or above (pino level >= 50) so far. */
  errorLines(): number;
  exited(): Promise<number | null>;
  /** SIGKILL, as a crash or an out-of-memory kill would end it; resolves once it is gone. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
}

/** Writes `config` to `<dir>/<name>` for `--config`. */
export async function writeInspectorConfig(dir: string, config: Record<string, unknown>, name = 'inspector.json'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, JSON.stringify(config, null, 2));
  return path;
}

export function startInspectorProcess(configPath: string, args: readonly string[] = [], entry = FROM_SOURCE, env: NodeJS.ProcessEnv = process.env): InspectorProcess {
  const child = spawn(process.execPath, [...entry, 'run', '--config', configPath, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env });
  if (child.pid === undefined) throw new Error('the inspector process did not start');
  const recent: Array<Record<string, unknown>> = [];
  let errors = 0;
  const keep = (line: Record<string, unknown>): void => {
    if (typeof line.level === 'number' && line.level >= 50) errors += 1;
    recent.push(line);
    if (recent.length > KEPT_LINES) recent.shift();
  };
  let partial = '';
  child.stdout?.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      try {
        keep(JSON.parse(line) as Record<string, unknown>);
      } catch {
        keep({ msg: line });
      }
    }
  });
  child.stderr?.on('data', (d: Buffer) => keep({ stderr: d.toString() }));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exit;
  };
  return {
    child,
    pid: child.pid,
    recent,
    errorLines: () => errors,
    exited: () => exit,
    kill: () => halt('SIGKILL'),
    stop: () => halt('SIGTERM'),
  };
}
