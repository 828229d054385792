import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, tempDir, waitFor } from '../peers/edge-agent-peer.js';

const root = new URL('../../', import.meta.url).pathname;

/**
 * `lookout-edge demo` with the simulated PLCs (test/peers, installed here: pymodbus and node-opcua-server):
 * the Modbus light barrier triggers camera plc-line, its rejects pulse the Modbus coil, its verdicts are
 * written to the OPC UA PLC.
 */
describe('lookout-edge demo: PLCs', () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await removeDir(dir);
  });

  it('says where the reject pulses land, and the triggered camera’s verdicts reach both PLCs', async () => {
    dir = await tempDir('le-demo-plc-');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'demo', '--dir', dir, '--port', '0', '--broker-port', '0', '--cameras', '1', '--fps', '2'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor(() => /Status page\s+http:\/\/127\.0\.0\.1:\d+\//.test(out), 120_000, `demo start-up:\n${out}`);
      expect(out).toMatch(/PLC \(Modbus TCP, pymodbus\)\s+127\.0\.0\.1:\d+ .*reject pulses land on coil 7/);
      expect(out).toMatch(/PLC \(OPC UA, node-opcua-server\)\s+opc\.tcp:\/\/\S+ .*verdicts land on Line1\.Outcome/);
      const statusUrl = /Status page\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)![1]!;
      type Status = { cameras: Array<{ id: string; counts: { pass: number; reject: number } }>; plc?: Record<string, { state: string; written: number; triggers: number }> };
      const status = async () => (await (await fetch(`${statusUrl}api/status`)).json()) as Status;
      let last = '';
      await waitFor(async () => {
        const s = await status();
        last = JSON.stringify(s.plc);
        const line = s.cameras.find((c) => c.id === 'plc-line');
        return line !== undefined && line.counts.pass + line.counts.reject >= 2 && (s.plc?.modbus?.triggers ?? 0) >= 2 && (s.plc?.opcua?.written ?? 0) >= 2;
      }, 60_000, () => `PLC writes and triggers: ${last}`);
      expect((await status()).plc).toMatchObject({ modbus: { state: 'up' }, opcua: { state: 'up' } });
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(out).toMatch(/stopped cleanly/);
    } finally {
      child.kill('SIGKILL');
    }
  }, 200_000);
});
