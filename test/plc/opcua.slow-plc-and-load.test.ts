import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { plcModbusSchema } from '../../src/config/slices/plc-modbus.js';
import { createLogger } from '../../src/core/log.js';
import { createPlcs, type Plcs } from '../../src/plc/create-plc.js';
import { opcuaCertificate, type CertPair } from '../helpers/opcua-certs.js';
import { waitFor } from '../helpers/wait-for.js';
import { type ModbusPlcPeer, startModbusPlc, writesTo } from '../peers/modbus-plc.js';
import { type OpcuaPeer, startOpcuaPeer } from '../peers/opcua-peer.js';
import { opcuaConfig, tempDir, verdict } from './opcua-kit.js';

const COIL = 7;
const COUNTER = 'ns=1;s=Line1.TriggerCount';

/**
 * The OPC UA PLC slow to answer writes, and under load, with a Modbus reject gate beside it (both PLC
 * peers in processes of their own).
 */
describe('OPC UA: a slow PLC and verdict writes under load', () => {
  let opcua: OpcuaPeer;
  let modbus: ModbusPlcPeer;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let mine: CertPair;
  let plcs: Plcs | undefined;
  const triggered: string[] = [];

  beforeAll(async () => {
    dir = await tempDir('le-opcua-l-');
    mine = await opcuaCertificate(dir.path, 'lookout');
    [opcua, modbus] = await Promise.all([startOpcuaPeer(), startModbusPlc()]);
  });
  afterEach(async () => {
    await plcs?.stop('test');
    plcs = undefined;
    await opcua.command({ cmd: 'slow', ms: 0 });
  });
  afterAll(async () => {
    await Promise.all([opcua?.close(), modbus?.close()]);
    await dir?.remove();
  });

  const start = async (opcuaValues: Record<string, unknown>): Promise<Plcs> => {
    const config = {
      opcua: opcuaConfig({ endpointUrl: opcua.endpointUrl, certificateFile: mine.certFile, privateKeyFile: mine.keyFile, triggers: [{ camera: 'cam1', nodeId: COUNTER, kind: 'counter' }], ...opcuaValues }),
      modbus: plcModbusSchema.parse({ host: modbus.host, port: modbus.port, timeoutMs: 1_000, backoff: { initialMs: 20, maxMs: 200 }, reject: { coil: COIL, pulseMs: 10, gapMs: 5, maxAgeMs: 60_000 } }),
    };
    plcs = await createPlcs(config, { inspectNow: async (camera) => void triggered.push(camera), log: createLogger('silent') });
    await plcs.start();
    await waitFor(() => plcs!.stats().opcua?.state === 'up' && plcs!.stats().modbus?.state === 'up', 20_000, 'both PLCs connected');
    return plcs;
  };

  /** The PLC counts parts on its trigger node, one change at a time (each acknowledged by the server). */
  const countParts = async (from: number, n: number): Promise<void> => {
    for (let i = 1; i <= n; i += 1) await opcua.command({ cmd: 'set', node: 'Line1.TriggerCount', value: from + i });
  };

  it('keeps pulsing the reject gate and taking triggers while the OPC UA server answers each write seconds late; its queue stays within queueSize', async () => {
    const plc = await start({ queueSize: 4, writeTimeoutMs: 15_000 });
    await opcua.command({ cmd: 'slow', ms: 500 }); // per node, and a verdict writes five (one Write call took over 5 s at 1 s per node)
    const coilFrom = modbus.events.length;
    const writesFrom = opcua.writes('Line1.PartId').length;
    triggered.length = 0;
    const verdicts = Array.from({ length: 10 }, () => verdict('reject', { decidedAt: Date.now() }));
    for (const v of verdicts) plc.onVerdict(v);
    await countParts(100, 5);

    // ten pulses on the Modbus gate while the OPC UA server has answered at most a few of its writes
    await waitFor(() => plc.stats().modbus!.written === 10, 20_000, () => JSON.stringify(plc.stats()));
    expect(writesTo(modbus.events.slice(coilFrom), 'co', COIL).filter((w) => w.values![0] === 1)).toHaveLength(10);
    expect(plc.stats().opcua!.written).toBeLessThan(10);
    await waitFor(() => triggered.length > 0 && triggered.length === plc.stats().opcua!.triggers, 20_000, () => `triggers served (${triggered.length})`);
    const slow = plc.stats().opcua!;
    expect(slow.queued).toBeLessThanOrEqual(4);
    expect(slow.queued + slow.written + slow.dropped).toBe(10);
    expect(slow.dropped).toBeGreaterThanOrEqual(5);

    await opcua.command({ cmd: 'slow', ms: 0 });
    await waitFor(() => plc.stats().opcua!.queued === 0, 20_000, 'queue drained');
    const written = opcua.writes('Line1.PartId').slice(writesFrom).map((w) => w.value as string);
    const order = written.map((partId) => verdicts.findIndex((v) => v.partId === partId));
    expect(order.every((index, i) => index >= 0 && (i === 0 || index > order[i - 1]!))).toBe(true); // in verdict order
    expect(order.at(-1)).toBe(9); // the newest is never the one dropped
    expect(plc.stats().opcua).toMatchObject({ state: 'up', refused: 0, triggersFailed: 0 });
  }, 120_000);

  it('writes hundreds of verdicts in order while triggers fire: none lost, none dropped', async () => {
    const plc = await start({});
    const writesFrom = opcua.writes('Line1.PartId').length;
    triggered.length = 0;
    const verdicts = Array.from({ length: 300 }, (_, i) => verdict(i % 3 ? 'pass' : 'reject', { decidedAt: Date.now() }));
    const decide = (async () => {
      for (let i = 0; i < verdicts.length; i += 10) {
        for (const v of verdicts.slice(i, i + 10)) plc.onVerdict(v);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await Promise.all([decide, countParts(1_000, 40)]);

    await waitFor(() => plc.stats().opcua!.written === 300, 60_000, () => JSON.stringify(plc.stats().opcua));
    const written = opcua.writes('Line1.PartId').slice(writesFrom).map((w) => w.value);
    expect(written).toEqual(verdicts.map((v) => v.partId));
    // every trigger reported is served; the server may fold counter changes that come close together (README)
    await waitFor(() => triggered.length > 0 && triggered.length === plc.stats().opcua!.triggers, 20_000, () => `triggers served (${triggered.length})`);
    expect(plc.stats().opcua!.triggers).toBeLessThanOrEqual(40);
    expect(plc.stats().opcua).toMatchObject({ dropped: 0, refused: 0, queued: 0, triggersFailed: 0 });
    await waitFor(() => plc.stats().modbus!.written === 100, 30_000, () => JSON.stringify(plc.stats().modbus)); // one pulse per reject
    expect(plc.stats().modbus).toMatchObject({ dropped: 0, refused: 0, expired: 0 });
  }, 120_000);
});
