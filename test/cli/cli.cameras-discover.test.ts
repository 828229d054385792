import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FROM_SOURCE } from '../helpers/cli-entry.js';
import { FakeGvCamera } from '../peers/fake-gv-camera.js';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const camera = new FakeGvCamera('LKCLI01');

beforeAll(async () => {
  await camera.start();
}, 200_000);
afterAll(async () => {
  await camera.release();
});

describe('lookout-edge cameras discover', () => {
  it('lists the GenICam camera on loopback with its vendor, model, serial and address, as a table and as JSON', async () => {
    const table = await run(process.execPath, [...FROM_SOURCE, 'cameras', 'discover', '--genicam'], { cwd: root });
    expect(table.stdout).toMatch(/^vendor\s+model\s+serial\s+address\s+protocol\n/);
    expect(table.stdout).toMatch(new RegExp(`Aravis\\s+Fake\\s+${camera.serial}\\s+127\\.0\\.0\\.1\\s+GigEVision`));
    const json = await run(process.execPath, [...FROM_SOURCE, 'cameras', 'discover', '--json'], { cwd: root });
    expect(JSON.parse(json.stdout)).toContainEqual({ id: `Aravis-Fake-${camera.serial}`, vendor: 'Aravis', model: 'Fake', serial: camera.serial, address: '127.0.0.1', protocol: 'GigEVision' });
  }, 60_000);
});
