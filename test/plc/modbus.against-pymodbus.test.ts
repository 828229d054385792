import { afterEach, describe, expect, it } from 'vitest';
import { plcModbusSchema, type PlcModbusConfig } from '../../src/config/slices/plc-modbus.js';
import { createLogger } from '../../src/core/log.js';
import type { Verdict } from '../../src/core/verdict.js';
import { createPlcs } from '../../src/plc/create-plc.js';
import { type ModbusPlcPeer, startModbusPlc, writesTo } from '../peers/modbus-plc.js';
import { waitFor } from '../helpers/wait-for.js';

const log = createLogger('silent');
const COIL = 7;
const HANDSHAKE = 100;

let seq = 0;
function verdict(outcome: Verdict['outcome'], partId?: string, basis: Verdict['basis'] = 'model'): Verdict {
  seq += 1;
  return {
    id: `v${seq}`,
    frameId: `f${seq}`,
    cameraId: 'cam1',
    ...(partId ? { partId } : {}),
    modelComponent: 'm',
    outcome,
    basis,
    isAnomalous: outcome === 'reject',
    anomalies: [],
    capturedAt: Date.now(),
    decidedAt: Date.now(),
    timings: {},
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(values: Record<string, unknown> = {}, inspectNow: (camera: string, partId?: string) => Promise<unknown> = async () => undefined) {
  const peer = await startModbusPlc();
  cleanups.push(() => peer.close());
  const config: PlcModbusConfig = plcModbusSchema.parse({
    host: peer.host,
    port: peer.port,
    timeoutMs: 500,
    backoff: { initialMs: 20, maxMs: 200 },
    reject: { coil: COIL, pulseMs: 40, gapMs: 20, maxAgeMs: 60_000 },
    handshake: { register: HANDSHAKE },
    ...values,
  });
  const plc = await createPlcs({ modbus: config }, { inspectNow, log });
  cleanups.push(() => plc.stop('test over'));
  await plc.start();
  return { peer, plc };
}

/** The coil's writes as on/off pulses with their length on the PLC's clock. */
function pulses(peer: ModbusPlcPeer): Array<{ on: number; off: number }> {
  const writes = writesTo(peer.events, 'co', COIL).filter((_, i, all) => i > 0 || all[0]!.values![0] === 1);
  const out: Array<{ on: number; off: number }> = [];
  let on: number | undefined;
  for (const w of writes) {
    if (w.values![0] === 1 && on === undefined) on = w.t!;
    else if (w.values![0] === 0 && on !== undefined) {
      out.push({ on, off: w.t! });
      on = undefined;
    }
  }
  return out;
}

describe('Modbus TCP PLC (pymodbus server in its own process)', () => {
  it('pulses the reject coil once per reject, in order, each for pulseMs, and writes the handshake of every verdict', async () => {
    const { peer, plc } = await setup();
    const verdicts = [verdict('reject', '1001'), verdict('pass', '1002'), verdict('reject', '1003'), verdict('reject', 'A-7')];
    for (const v of verdicts) plc.onVerdict(v);
    await waitFor(() => plc.stats().modbus!.written === 7, 20_000, () => JSON.stringify(peer.events.slice(-6)));
    for (const p of pulses(peer)) expect(p.off - p.on).toBeGreaterThanOrEqual(38);
    const gaps = pulses(peer).slice(1).map((p, i) => p.on - pulses(peer)[i]!.off);
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(18);
    const handshakes = writesTo(peer.events, 'hr', HANDSHAKE).map((e) => e.values);
    expect(handshakes.slice(0, 3)).toEqual([
      [2, 0, 1001, 1],
      [1, 0, 1002, 2],
      [2, 0, 1003, 3],
    ]);
    expect(handshakes[3]![0]).toBe(2);
    expect(handshakes[3]![3]).toBe(4);
    expect(pulses(peer)).toHaveLength(3);
    expect(plc.stats().modbus).toMatchObject({ state: 'up', dropped: 0, refused: 0, queued: 0 });
  });

  it('writes nothing to the coil for a pass, and the error code when the fail-safe decided', async () => {
    const { peer, plc } = await setup();
    plc.onVerdict(verdict('pass', '5'));
    plc.onVerdict(verdict('reject', '6', 'fail-safe'));
    await waitFor(() => writesTo(peer.events, 'hr', HANDSHAKE).length === 2 && pulses(peer).length === 1, 20_000);
    expect(writesTo(peer.events, 'hr', HANDSHAKE).map((e) => e.values![0])).toEqual([1, 4]);
  });

  it('loses no reject when the PLC restarts mid-run: queued pulses are sent once it is back', async () => {
    const { peer, plc } = await setup();
    await waitFor(() => plc.stats().modbus!.state === 'up', 20_000);
    await peer.kill();
    for (const part of ['1', '2', '3']) plc.onVerdict(verdict('reject', part));
    await waitFor(() => plc.stats().modbus!.state === 'down', 20_000);
    const from = peer.events.length;
    await peer.restart();
    await waitFor(() => writesTo(peer.events.slice(from), 'hr', HANDSHAKE).length >= 3 && pulses({ ...peer, events: peer.events.slice(from) }).length >= 3, 20_000);
    const parts = writesTo(peer.events.slice(from), 'hr', HANDSHAKE).map((e) => e.values![2]);
    expect([...new Set(parts)]).toEqual([1, 2, 3]);
    expect(plc.stats().modbus).toMatchObject({ state: 'up', dropped: 0, refused: 0 });
    expect(plc.stats().modbus!.lastError?.code).toBe('MODBUS_UNAVAILABLE');
  });

  it('repeats a pulse the PLC lost by restarting in the middle of it, and sends the queued one after it', async () => {
    const { peer, plc } = await setup({ reject: { coil: COIL, pulseMs: 300, gapMs: 20, maxAgeMs: 60_000 }, handshake: undefined });
    plc.onVerdict(verdict('reject', '1'));
    plc.onVerdict(verdict('reject', '2'));
    await peer.waitFor((e) => e.event === 'write' && e.table === 'co' && e.address === COIL && e.values![0] === 1);
    await peer.kill(); // power cut with the gate's coil on
    const from = peer.events.length;
    await peer.restart();
    await waitFor(() => plc.stats().modbus!.written === 2, 20_000, () => JSON.stringify(plc.stats()));
    const after = pulses({ ...peer, events: peer.events.slice(from) });
    expect(after).toHaveLength(2); // the cut pulse again, then the second
    expect(plc.stats().modbus).toMatchObject({ dropped: 0, refused: 0 });
    expect(plc.stats().modbus!.retried).toBeGreaterThan(0);
  });

  it('turns the reject coil off when stopped in the middle of a pulse', async () => {
    const { peer, plc } = await setup({ reject: { coil: COIL, pulseMs: 60_000 } });
    plc.onVerdict(verdict('reject', '1'));
    await peer.waitFor((e) => e.event === 'write' && e.table === 'co' && e.address === COIL && e.values![0] === 1);
    await plc.stop('test');
    expect(writesTo(peer.events, 'co', COIL).at(-1)!.values).toEqual([0]);
  });

  it('drops the oldest waiting write when a queue is full while the PLC is down, counts it, and sends the rest in order', async () => {
    const { peer, plc } = await setup({ queueSize: 3, reject: undefined });
    await waitFor(() => plc.stats().modbus!.state === 'up', 20_000);
    await peer.kill();
    for (const part of ['1', '2', '3', '4', '5']) plc.onVerdict(verdict('pass', part));
    expect(plc.stats().modbus).toMatchObject({ dropped: 2, queued: 3 });
    const from = peer.events.length;
    await peer.restart();
    await waitFor(() => plc.stats().modbus!.queued === 0, 20_000);
    expect([...new Set(writesTo(peer.events.slice(from), 'hr', HANDSHAKE).map((e) => e.values![2]))]).toEqual([3, 4, 5]);
  });

  it('retries a refused write refusedRetries times, then drops it and counts it; the next verdict goes through', async () => {
    const { peer, plc } = await setup({ refusedRetries: 2, reject: undefined });
    await waitFor(() => plc.stats().modbus!.state === 'up', 20_000);
    await peer.refuseWrites(true);
    plc.onVerdict(verdict('pass', '11'));
    await waitFor(() => plc.stats().modbus!.refused === 1, 20_000);
    expect(peer.events.filter((e) => e.event === 'refused')).toHaveLength(3);
    expect(plc.errors()['plc:modbus']?.code).toBe('MODBUS_EXCEPTION');
    await peer.refuseWrites(false);
    plc.onVerdict(verdict('pass', '12'));
    await waitFor(() => writesTo(peer.events, 'hr', HANDSHAKE).length === 1, 20_000);
    expect(writesTo(peer.events, 'hr', HANDSHAKE)[0]!.values).toEqual([1, 0, 12, 2]);
  });

  it('does not slow verdicts when the PLC is slow: onVerdict returns at once and the writes follow in order', async () => {
    const { peer, plc } = await setup({ reject: { coil: COIL, pulseMs: 10, gapMs: 5, maxAgeMs: 60_000 } });
    await waitFor(() => plc.stats().modbus!.state === 'up', 20_000);
    await peer.delay(100);
    const started = performance.now();
    for (let i = 1; i <= 20; i++) plc.onVerdict(verdict(i % 2 ? 'reject' : 'pass', String(i)));
    expect(performance.now() - started).toBeLessThan(50); // 20 verdicts against 100 ms per request
    await peer.delay(0);
    await waitFor(() => writesTo(peer.events, 'hr', HANDSHAKE).length === 20 && pulses(peer).length === 10, 30_000);
    expect(writesTo(peer.events, 'hr', HANDSHAKE).map((e) => e.values![2])).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('keeps every reject pulse under load: a burst of rejects makes as many separate pulses', async () => {
    const { peer, plc } = await setup({ reject: { coil: COIL, pulseMs: 5, gapMs: 5, maxAgeMs: 60_000 }, handshake: undefined });
    for (let i = 0; i < 50; i++) plc.onVerdict(verdict('reject', String(i)));
    await waitFor(() => plc.stats().modbus!.written === 50, 30_000, () => `${pulses(peer).length} pulses`);
    expect(pulses(peer)).toHaveLength(50);
    expect(plc.stats().modbus).toMatchObject({ dropped: 0 });
  });

  it('drops a reject pulse whose verdict is older than maxAgeMs, counts it as expired, and still writes its handshake', async () => {
    const { peer, plc } = await setup({ reject: { coil: COIL, pulseMs: 40, gapMs: 20, maxAgeMs: 1_000 } });
    plc.onVerdict({ ...verdict('reject', '21'), decidedAt: Date.now() - 5_000 }); // decided long ago: the part is past the gate
    plc.onVerdict(verdict('reject', '22'));
    await waitFor(() => plc.stats().modbus!.written === 3 && plc.stats().modbus!.expired === 1, 20_000, () => JSON.stringify(plc.stats().modbus));
    expect(pulses(peer)).toHaveLength(1); // the fresh one
    expect(writesTo(peer.events, 'hr', HANDSHAKE).map((e) => e.values![2])).toEqual([21, 22]);
    expect(plc.stats().modbus).toMatchObject({ dropped: 0, refused: 0, queued: 0 });
  });

  it('does not pulse, once the PLC is back, for rejects that waited out a PLC restart past maxAgeMs', async () => {
    const { peer, plc } = await setup({ reject: { coil: COIL, pulseMs: 40, gapMs: 20, maxAgeMs: 200 } });
    await waitFor(() => plc.stats().modbus!.state === 'up', 20_000);
    await peer.kill();
    const late = verdict('reject', '31');
    plc.onVerdict(late);
    await waitFor(() => plc.stats().modbus!.state === 'down' && Date.now() - late.decidedAt > 200, 20_000, 'the PLC down and the reject too old');
    const from = peer.events.length;
    await peer.restart();
    await waitFor(() => writesTo(peer.events.slice(from), 'hr', HANDSHAKE).length >= 1, 20_000, 'the handshake delivered');
    plc.onVerdict(verdict('reject', '32'));
    await waitFor(() => pulses({ ...peer, events: peer.events.slice(from) }).length === 1 && plc.stats().modbus!.queued === 0, 20_000, () => JSON.stringify(plc.stats().modbus));
    expect([...new Set(writesTo(peer.events.slice(from), 'hr', HANDSHAKE).map((e) => e.values![2]))]).toEqual([31, 32]);
    expect(plc.stats().modbus).toMatchObject({ expired: 1, dropped: 0 });
  });

  it('starts an inspection on each rising edge of the trigger input, with the part id from its register, debounced', async () => {
    const calls: Array<{ camera: string; partId?: string }> = [];
    const { peer, plc } = await setup(
      { triggers: [{ camera: 'cam1', table: 'discrete-input', address: 3, pollMs: 5, debounceMs: 50, partId: { address: 20, words: 2 } }] },
      async (camera, partId) => void calls.push({ camera, ...(partId ? { partId } : {}) }),
    );
    await waitFor(() => plc.stats().modbus!.state === 'up', 20_000);
    await peer.set('hr', 20, [1, 2]); // part 65538
    await peer.set('di', 3, [1]);
    await waitFor(() => calls.length === 1, 20_000);
    expect(calls[0]).toEqual({ camera: 'cam1', partId: '65538' });
    // bounce: off and on again well inside debounceMs makes no second inspection
    await peer.set('di', 3, [0]);
    await peer.set('di', 3, [1]);
    await peer.set('di', 3, [0]);
    await new Promise((r) => setTimeout(r, 150)); // off for longer than debounceMs: armed again
    await peer.set('hr', 20, [0, 7]);
    await peer.set('di', 3, [1]);
    await waitFor(() => calls.length === 2, 20_000);
    expect(calls[1]).toEqual({ camera: 'cam1', partId: '7' });
    expect(plc.stats().modbus!.triggers).toBe(2);
  });
});
