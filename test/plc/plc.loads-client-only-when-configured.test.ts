import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;

/** In a fresh process: builds the PLC clients for `plc` and says whether modbus-serial was loaded. */
async function loadsModbusSerial(plc: Record<string, unknown>): Promise<boolean> {
  const script = `
    import { createRequire } from 'node:module';
    import { createPlcs } from './src/plc/create-plc.ts';
    import { plcSchema } from './src/config/slices/plc.ts';
    import { createLogger } from './src/core/log.ts';
    const plcs = await createPlcs(plcSchema.parse(${JSON.stringify(plc)}), { inspectNow: async () => undefined, log: createLogger('silent') });
    const cache = createRequire(import.meta.url).cache;
    process.stdout.write(String(Object.keys(cache).some((k) => k.includes('/node_modules/modbus-serial/'))));
    await plcs.stop();
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, timeout: 60_000 });
  return stdout.trim() === 'true';
}

describe('PLC clients: the protocol package loads only when the configuration names it', () => {
  it('does not load modbus-serial without plc.modbus (the inspector memory budget)', async () => {
    expect(await loadsModbusSerial({})).toBe(false);
  });

  it('loads it with plc.modbus', async () => {
    expect(await loadsModbusSerial({ modbus: { host: '127.0.0.1', port: 9 } })).toBe(true);
  });
});
