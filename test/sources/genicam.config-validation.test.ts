import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { cameraSchema } from '../../src/config/slices/sources.js';

function parse(source: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return cameraSchema.safeParse({ id: 'cam', source: { type: 'genicam', ...source }, ...extra });
}

function messages(result: ReturnType<typeof parse>): string[] {
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('GenICam source configuration', () => {
  it('defaults to a free-running Mono8 camera run by the system python', () => {
    const result = parse({ serial: 'A1' });
    expect(result.success).toBe(true);
    expect(result.data?.source).toMatchObject({ pixelFormat: 'Mono8', acquisition: { mode: 'free' }, pythonPath: '/usr/bin/python3', stallTimeoutMs: 10_000 });
  });

  it('needs exactly one of serial and address', () => {
    expect(messages(parse({}))).toEqual(['source: a genicam source needs exactly one of serial and address']);
    expect(messages(parse({ serial: 'A1', address: '10.0.0.5' }))).toEqual(['source: a genicam source needs exactly one of serial and address']);
  });

  it('software trigger needs our triggers, a hardware trigger must not wait for them', () => {
    expect(messages(parse({ serial: 'A1', acquisition: { mode: 'software' } }))).toEqual([
      'trigger: software-triggered acquisition needs trigger.enabled (frames are taken on our triggers)',
    ]);
    expect(parse({ serial: 'A1', acquisition: { mode: 'software' } }, { trigger: { enabled: true } }).success).toBe(true);
    expect(messages(parse({ serial: 'A1', acquisition: { mode: 'hardware', line: 'Line1' } }, { trigger: { enabled: true } }))).toEqual([
      'trigger: hardware-triggered acquisition delivers its own frames: leave trigger disabled',
    ]);
  });

  it('refuses unknown keys, pixel formats we do not take and lines that are not GenICam lines, with their paths', () => {
    expect(messages(parse({ serial: 'A1', pixelFormat: 'Mono12p' }))[0]).toMatch(/^source\.pixelFormat: /);
    expect(messages(parse({ serial: 'A1', acquisition: { mode: 'hardware', line: 'Input 1' } }))).toEqual(['source.acquisition.line: a GenICam line: Line0, Line1 …']);
    expect(messages(parse({ serial: 'A1', exposure: 100 }))[0]).toMatch(/^source: .*exposure/);
  });

  it('a hardware-triggered camera waits up to 5 s for each announced part id, 64 at most, and takes PLC triggers only where they read a part id', () => {
    expect(parse({ serial: 'A1', acquisition: { mode: 'hardware', line: 'Line1' } }).data?.source).toMatchObject({
      acquisition: { mode: 'hardware', line: 'Line1', activation: 'RisingEdge', partIdMaxAgeMs: 5_000, partIdQueueSize: 64 },
    });
    const camera = { id: 'cam1', source: { type: 'genicam', serial: 'A1', acquisition: { mode: 'hardware', line: 'Line1' } } };
    const withTrigger = (trigger: Record<string, unknown>) => ({ outbox: { path: '/tmp/x.sqlite' }, cameras: [camera], plc: { modbus: { host: '10.0.0.10', triggers: [{ camera: 'cam1', address: 3, ...trigger }] } } });
    expect(() => loadConfig([{ source: 'test', values: withTrigger({}) }])).toThrow(/plc\.modbus\.triggers\.0\.camera: camera "cam1" is fired by its own line: a trigger for it announces a part id/);
    expect(loadConfig([{ source: 'test', values: withTrigger({ partId: { address: 10 } }) }]).plc.modbus?.triggers[0]?.camera).toBe('cam1');
  });
});
