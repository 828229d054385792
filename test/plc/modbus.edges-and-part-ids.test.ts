import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { EdgeDetector } from '../../src/plc/modbus/trigger-poller.js';
import { nextSequence, partIdNumber } from '../../src/plc/modbus/verdict-writes.js';

describe('Modbus trigger edges', () => {
  it('fires on a rising edge at once and ignores bounce until the input was off for debounceMs', () => {
    const edges = new EdgeDetector(20);
    expect(edges.feed(false, 0)).toBe(false); // first reading: armed, off
    expect(edges.feed(true, 5)).toBe(true);
    expect(edges.feed(false, 10)).toBe(false);
    expect(edges.feed(true, 15)).toBe(false); // bounce: off for 5 ms only
    expect(edges.feed(true, 20)).toBe(false); // held on: no second edge
    expect(edges.feed(false, 30)).toBe(false);
    expect(edges.feed(true, 55)).toBe(true); // off for 25 ms: the next part
  });

  it('does not fire for an input already on at the first reading (after a reconnection), only after it went off', () => {
    const edges = new EdgeDetector(0);
    expect(edges.feed(true, 0)).toBe(false);
    expect(edges.feed(true, 5)).toBe(false);
    expect(edges.feed(false, 10)).toBe(false);
    expect(edges.feed(true, 15)).toBe(true);
    edges.reset();
    expect(edges.feed(true, 20)).toBe(false);
  });
});

describe('Modbus handshake values', () => {
  it('writes a decimal part id as its number, anything else as a stable 32-bit hash, none as 0', () => {
    expect(partIdNumber('4711')).toBe(4711);
    expect(partIdNumber('4294967295')).toBe(0xffffffff);
    expect(partIdNumber('4294967296')).toBe(partIdNumber('4294967296')); // too big: hashed
    expect(partIdNumber('4294967296')).not.toBe(0);
    expect(partIdNumber('A-77')).toBe(partIdNumber('A-77'));
    expect(partIdNumber('A-77')).not.toBe(partIdNumber('A-78'));
    expect(partIdNumber('A-77')).toBeLessThanOrEqual(0xffffffff);
    expect(partIdNumber(undefined)).toBe(0);
  });

  it('counts the sequence 1..65535 and wraps past 0', () => {
    expect(nextSequence(0)).toBe(1);
    expect(nextSequence(65_534)).toBe(65_535);
    expect(nextSequence(65_535)).toBe(1);
  });
});

describe('Modbus trigger configuration', () => {
  const base = { outbox: { path: '/tmp/x.sqlite' }, plc: { modbus: { host: '10.0.0.10', triggers: [{ camera: 'cam1', address: 3 }] } } };
  const camera = (trigger?: { enabled: boolean }) => ({ id: 'cam1', source: { type: 'http', url: 'http://10.0.0.20/s.jpg' }, ...(trigger ? { trigger } : {}) });

  it('refuses a trigger for a camera that does not exist or does not take triggers, naming the key', () => {
    expect(() => loadConfig([{ source: 'test', values: { ...base, cameras: [] } }])).toThrow(/plc\.modbus\.triggers\.0\.camera: no camera "cam1"/);
    expect(() => loadConfig([{ source: 'test', values: { ...base, cameras: [camera()] } }])).toThrow(/does not take triggers/);
    expect(loadConfig([{ source: 'test', values: { ...base, cameras: [camera({ enabled: true })] } }]).plc.modbus?.triggers[0]?.camera).toBe('cam1');
  });
});
