import { afterEach, describe, expect, it } from 'vitest';
import { plcModbusSchema } from '../../src/config/slices/plc-modbus.js';
import { createLogger } from '../../src/core/log.js';
import type { Verdict } from '../../src/core/verdict.js';
import { createPlcs } from '../../src/plc/create-plc.js';
import { waitFor } from '../helpers/wait-for.js';
import { startModbusPlc } from '../peers/modbus-plc.js';
import { startHarness } from '../status/status-harness.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

let seq = 0;
function reject(): Verdict {
  seq += 1;
  return { id: `m${seq}`, frameId: `f${seq}`, cameraId: 'cam1', partId: String(seq), modelComponent: 'm', outcome: 'reject', basis: 'model', isAnomalous: true, anomalies: [], capturedAt: Date.now(), decidedAt: Date.now(), timings: {} };
}

/** Prometheus samples as `name{labels}` → value (the exposition's own label order). */
async function scrape(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return new Map(text.split('\n').filter((l) => l.startsWith('lookout_edge_plc')).map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))]));
}

describe('PLC in /metrics and /api/status (pymodbus PLC, real status server)', () => {
  it('shows each protocol up or down, its writes by result, its queue depth and its triggers; a PLC that is down is a health warning', async () => {
    const peer = await startModbusPlc();
    cleanups.push(() => peer.close());
    const config = plcModbusSchema.parse({ host: peer.host, port: peer.port, timeoutMs: 500, backoff: { initialMs: 20, maxMs: 200 }, queueSize: 2, reject: { coil: 7, pulseMs: 5, gapMs: 5, maxAgeMs: 60_000 } });
    const plcs = await createPlcs({ modbus: config }, { inspectNow: async () => undefined, log: createLogger('silent') });
    cleanups.push(() => plcs.stop('test over'));
    await plcs.start();
    const h = await startHarness();
    cleanups.push(() => h.close());
    h.inspector.plcStats = () => plcs.stats();

    plcs.onVerdict(reject());
    plcs.onVerdict(reject());
    await waitFor(() => plcs.stats().modbus!.written === 2, 20_000, 'two pulses');
    let samples = await scrape(h.url);
    expect(samples.get('lookout_edge_plc_up{protocol="modbus"}')).toBe(1);
    expect(samples.get('lookout_edge_plc_writes_total{protocol="modbus",result="written"}')).toBe(2);
    expect(samples.get('lookout_edge_plc_writes_total{protocol="modbus",result="dropped"}')).toBe(0);
    expect(samples.get('lookout_edge_plc_queue_depth{protocol="modbus"}')).toBe(0);
    expect(samples.get('lookout_edge_plc_triggers_total{protocol="modbus"}')).toBe(0);
    expect(samples.get('lookout_edge_plc_triggers_failed_total{protocol="modbus"}')).toBe(0);

    // the PLC goes away: down, its writes wait (two queued, one dropped from the full queue)
    await peer.kill();
    for (let i = 0; i < 3; i += 1) plcs.onVerdict(reject());
    await waitFor(() => plcs.stats().modbus!.state === 'down', 20_000, 'down');
    samples = await scrape(h.url);
    expect(samples.get('lookout_edge_plc_up{protocol="modbus"}')).toBe(0);
    expect(samples.get('lookout_edge_plc_queue_depth{protocol="modbus"}')).toBe(2);
    expect(samples.get('lookout_edge_plc_writes_total{protocol="modbus",result="dropped"}')).toBe(1);
    expect(samples.get('lookout_edge_plc_writes_total{protocol="modbus",result="retried"}')).toBeGreaterThan(0);

    const status = (await (await fetch(`${h.url}/api/status`)).json()) as { plc?: Record<string, { state: string; queued: number }> };
    expect(status.plc?.modbus).toMatchObject({ state: 'down', queued: 2, dropped: 1 });
    const health = (await (await fetch(`${h.url}/readyz`)).json()) as { warnings: string[] };
    expect(health.warnings).toContain('PLC (modbus) is not answering: 2 verdict writes waiting');
  });

  it('shows no PLC series without a PLC', async () => {
    const h = await startHarness();
    cleanups.push(() => h.close());
    expect((await scrape(h.url)).size).toBe(0);
  });
});
