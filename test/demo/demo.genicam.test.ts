import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, tempDir, waitFor } from '../peers/edge-agent-peer.js';
import { FakeGvCamera } from '../peers/fake-gv-camera.js';

const root = new URL('../../', import.meta.url).pathname;
const camera = new FakeGvCamera('LKDEMO01');

/** `lookout-edge demo --genicam <address>`: the demo with a GenICam camera beside its replaying ones. */
describe('lookout-edge demo --genicam', () => {
  let dir: string | undefined;
  beforeAll(async () => {
    await camera.start();
  }, 200_000);
  afterAll(async () => {
    await camera.release();
    if (dir) await removeDir(dir);
  });

  it('inspects the GenICam camera’s frames with the others and stops cleanly', async () => {
    dir = await tempDir('le-demo-gige-');
    const args = ['--import', 'tsx', 'src/cli/bin.ts', 'demo', '--dir', dir, '--port', '0', '--broker-port', '0', '--cameras', '1', '--fps', '5', '--genicam', camera.address];
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor(() => /Status page\s+http:\/\/127\.0\.0\.1:\d+\//.test(out), 90_000, `demo start-up:\n${out}`);
      const statusUrl = /Status page\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)![1]!;
      type Status = { cameras: Array<{ id: string; source: { state: string; framesTotal: number }; counts: { pass: number; reject: number } }> };
      const gige = async () => ((await (await fetch(`${statusUrl}api/status`)).json()) as Status).cameras.find((c) => c.id === 'gige-1');
      await waitFor(async () => {
        const cam = await gige();
        return cam !== undefined && cam.source.state === 'streaming' && cam.counts.pass + cam.counts.reject >= 3;
      }, 30_000, 'verdicts for the GenICam camera');
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(out).toMatch(/stopped cleanly/);
    } finally {
      child.kill('SIGKILL');
    }
  }, 150_000);
});
