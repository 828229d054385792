import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InspectorApp } from '../../src/main.js';
import { waitFor } from '../peers/edge-agent-peer.js';
import { type ModbusPlcPeer, startModbusPlc, writesTo } from '../peers/modbus-plc.js';
import { type GreyCameraRig, startGreyCameraRig } from './inspector-rig.js';

const COIL = 7;
const HANDSHAKE = 100;
const LIGHT_BARRIER = 3;
const PART_ID = 20;

/**
 * The wiring of the README's example, end to end: a light barrier on the PLC's discrete input starts
 * an inspection of the part whose number the PLC holds, and the reject comes back on the gate's coil.
 */
describe('inspector: light barrier → camera trigger → reject gate over Modbus TCP (pymodbus PLC)', () => {
  let peer: ModbusPlcPeer;
  let rig: GreyCameraRig;
  let app: InspectorApp;

  beforeAll(async () => {
    peer = await startModbusPlc();
    rig = await startGreyCameraRig({
      dirPrefix: 'le-modbus-',
      shade: 0xf0, // scored 0.94: a reject
      size: { width: 128, height: 96 },
      config: () => ({
        thingName: 'gw',
        plc: {
          modbus: {
          host: peer.host,
          port: peer.port,
          timeoutMs: 500,
          backoff: { initialMs: 20, maxMs: 200 },
          reject: { coil: COIL, pulseMs: 50 },
          handshake: { register: HANDSHAKE },
            triggers: [{ camera: 'cam1', address: LIGHT_BARRIER, partId: { address: PART_ID } }],
          },
        },
      }),
    });
    app = rig.app;
  });

  afterAll(async () => {
    await rig?.stop();
    await peer?.close();
  });

  it('inspects the part on the light barrier edge and pulses the reject gate, with the handshake for that part', async () => {
    await waitFor(() => peer.events.some((e) => e.event === 'write' && e.table === 'co' && e.address === COIL), 10_000, 'the coil reset at start');
    const from = peer.events.length;
    await peer.set('hr', PART_ID, [4711]);
    await peer.set('di', LIGHT_BARRIER, [1]);
    await waitFor(() => writesTo(peer.events.slice(from), 'co', COIL).length >= 2, 10_000, 'reject pulse');
    expect(writesTo(peer.events.slice(from), 'co', COIL).map((e) => e.values![0])).toEqual([1, 0]);
    await waitFor(() => writesTo(peer.events.slice(from), 'hr', HANDSHAKE).length === 1, 10_000, 'handshake');
    expect(writesTo(peer.events.slice(from), 'hr', HANDSHAKE)[0]!.values).toEqual([2, 0, 4711, 1]);
    expect(app.inspector.status().cameras[0]!.counts.reject).toBe(1);
    await peer.set('di', LIGHT_BARRIER, [0]);
  });

  it('goes on making verdicts while the PLC is down, shows it, and sends the held reject once the PLC is back', async () => {
    await peer.kill();
    const verdict = await app.inspector.inspectNow('cam1', '99');
    expect(verdict.outcome).toBe('reject');
    await waitFor(() => app.inspector.status().lastErrors['plc:modbus']?.code === 'MODBUS_UNAVAILABLE', 10_000, 'plc:modbus in the status');
    const from = peer.events.length;
    await peer.restart();
    await waitFor(() => writesTo(peer.events.slice(from), 'hr', HANDSHAKE).some((e) => e.values![2] === 99), 10_000, 'the held handshake');
    await waitFor(() => writesTo(peer.events.slice(from), 'co', COIL).some((e) => e.values![0] === 1), 10_000, 'the held reject pulse');
  });
});
