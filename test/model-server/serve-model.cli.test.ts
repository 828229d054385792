import { type ChildProcess, spawn } from 'node:child_process';
import { lstat, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { manifest, rawClient, removeDir, tempDir, waitFor } from '../peers/edge-agent-peer.js';

/** `lookout-edge serve-model` as a real child process: serves the noop model, stops cleanly on SIGTERM. */

const root = new URL('../../', import.meta.url).pathname;
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}

describe('lookout-edge serve-model', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('serves models from modelsDir and shuts down gracefully on %s', async (signal) => {
    const dir = await tempDir();
    cleanup.push(() => removeDir(dir));
    await mkdir(join(dir, 'models', 'demo-model'), { recursive: true });
    await writeFile(join(dir, 'models', 'demo-model', 'manifest.json'), JSON.stringify(manifest({ runtime: 'noop' })));
    const socket = join(dir, 'agent.sock');
    const config = join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ logging: { level: 'warn' }, modelServer: { socket, modelsDir: join(dir, 'models'), socketMode: '0600' } }));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'serve-model', '--config', config], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT: '' } });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    cleanup.push(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    await waitFor(async () => (await lstat(socket).catch(() => undefined))?.isSocket() === true, 15_000, 'the socket');
    expect((await lstat(socket)).mode & 0o777).toBe(0o600);
    const c = rawClient(`unix://${socket}`, { keepCase: true });
    cleanup.push(() => c.close());
    await waitFor(async () => (await c.call<{ models: { model_component: string; status: number }[] }>('ListModels', {})).models[0]?.status === 2);
    const r = await c.call<{ detect_anomaly_result: { is_anomalous: boolean; anomaly_score: number } }>('DetectAnomalies', {
      model_component: 'demo-model',
      bitmap: { width: 64, height: 64, byte_data: new Uint8Array(64 * 64 * 3) },
    });
    expect(r.detect_anomaly_result).toMatchObject({ is_anomalous: false, anomaly_score: 0 });
    child.kill(signal);
    expect(await exited(child)).toBe(0);
    expect(stderr).toBe('');
    await expect(lstat(socket)).rejects.toThrow(/ENOENT/);
  });
});
