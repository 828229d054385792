import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FROM_SOURCE } from '../helpers/cli-entry.js';
import { manifest } from '../peers/edge-agent-peer.js';

/** `lookout-edge serve-model` as a child process, as the nucleus runs it, with its JSON log lines at hand. */

const root = new URL('../../', import.meta.url).pathname;

export interface ServeModelProcess {
  readonly child: ChildProcess;
  /** Parsed JSON log lines written so far. */
  readonly logs: Array<Record<string, unknown>>;
  stderr(): string;
  exited(): Promise<number | null>;
  /** The health endpoint's URL, once it logged that it listens. */
  healthUrl(): string | undefined;
  kill(): void;
}

export function startServeModel(args: readonly string[], env: NodeJS.ProcessEnv, entry = FROM_SOURCE): ServeModelProcess {
  const child = spawn(process.execPath, [...entry, 'serve-model', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  let partial = '';
  child.stdout?.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
    }
  });
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    logs,
    stderr: () => stderr,
    exited: () => exit,
    healthUrl: () => logs.find((l) => l.msg === 'health server listening')?.url as string | undefined,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** A model directory the noop runtime serves; `version` shows in its ARN (…/model/<name>/<version>). */
export async function noopModelDir(dir: string, name: string, version: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const modelArn = `arn:aws:lookoutvision:eu-west-1:123456789012:model/${name}/${version}`;
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest({ runtime: 'noop', name, version, modelArn })));
  return dir;
}

/** Writes `<registryDir>/<component>.json` the way a model component's Install step does: temp file, then rename. */
export async function writeRegistryFile(registryDir: string, record: Record<string, unknown> & { component: string }): Promise<void> {
  await mkdir(registryDir, { recursive: true });
  const tmp = join(registryDir, `.${record.component}.json.tmp`);
  await writeFile(tmp, JSON.stringify(record));
  await rename(tmp, join(registryDir, `${record.component}.json`));
}
