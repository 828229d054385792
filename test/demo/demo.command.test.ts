import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, tempDir, waitFor } from '../peers/edge-agent-peer.js';

const root = new URL('../../', import.meta.url).pathname;

/**
 * The README's first command, as a user runs it: `lookout-edge demo` generates part images, trains the
 * built-in model, starts our model server, an embedded broker, the inspector and the status page, counts
 * verdicts live, and stops cleanly on Ctrl-C.
 */
describe('lookout-edge demo', () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await removeDir(dir);
  });

  it('runs the whole system on generated images and stops cleanly on SIGINT', async () => {
    dir = await tempDir('le-demo-');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'demo', '--dir', dir, '--port', '0', '--broker-port', '0', '--fps', '5', '--no-plc'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor(() => /Status page\s+http:\/\/127\.0\.0\.1:\d+\//.test(out), 90_000, `demo start-up:\n${out}`);
      const statusUrl = /Status page\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)![1]!;
      const brokerUrl = /(mqtt:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;

      // verdicts reach the embedded broker, both outcomes among them
      const seen: Array<{ outcome: string }> = [];
      const sub = await mqtt.connectAsync(brokerUrl, { protocolVersion: 4 });
      sub.on('message', (_t, p) => seen.push(JSON.parse(p.toString()) as { outcome: string }));
      await sub.subscribeAsync('lookout/demo-gateway/+/verdict', { qos: 1 });
      await waitFor(() => seen.some((v) => v.outcome === 'pass') && seen.some((v) => v.outcome === 'reject'), 30_000, 'pass and reject verdicts');
      await sub.endAsync();

      const status = (await (await fetch(`${statusUrl}api/status`)).json()) as { model: { status: string }; cameras: unknown[] };
      expect(status.model.status).toBe('RUNNING');
      expect(status.cameras).toHaveLength(2);
      expect((await fetch(statusUrl)).status).toBe(200);
      await waitFor(() => /verdicts: [1-9]\d*/.test(out), 15_000, 'live verdict count');
      expect(await readdir(join(dir, 'model'))).toEqual(expect.arrayContaining(['manifest.json']));

      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(out).toMatch(/stopped cleanly/);
    } finally {
      child.kill('SIGKILL');
    }
  }, 150_000);
});
