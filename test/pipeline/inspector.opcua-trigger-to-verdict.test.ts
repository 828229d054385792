import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InspectorApp } from '../../src/main.js';
import { opcuaCertificate } from '../helpers/opcua-certs.js';
import { type OpcuaPeer, startOpcuaPeer } from '../peers/opcua-peer.js';
import { waitFor } from '../peers/edge-agent-peer.js';
import { LINE1 } from '../plc/opcua-kit.js';
import { type GreyCameraRig, startGreyCameraRig } from './inspector-rig.js';

/**
 * The line's light barrier sets the PLC's trigger node with a part id; the inspector (the real app) takes
 * one frame, and the verdict for that part comes back to the PLC's verdict nodes over OPC UA. A PLC that
 * goes away does not stop verdicts: the health shows it.
 */
describe('inspector: trigger and verdict over OPC UA', () => {
  let peer: OpcuaPeer;
  let rig: GreyCameraRig;
  let app: InspectorApp;

  beforeAll(async () => {
    peer = await startOpcuaPeer();
    rig = await startGreyCameraRig({
      dirPrefix: 'le-opcua-e2e-',
      shade: 0x20,
      size: { width: 128, height: 96 },
      config: async (dir) => {
        const mine = await opcuaCertificate(dir, 'lookout');
        return {
          plc: {
            opcua: {
            endpointUrl: peer.endpointUrl,
            securityMode: 'None',
            certificateFile: mine.certFile,
            privateKeyFile: mine.keyFile,
            verdict: LINE1,
            triggers: [{ camera: 'cam1', nodeId: 'ns=1;s=Line1.Trigger', partIdNodeId: 'ns=1;s=Line1.TriggerPartId' }],
              backoff: { initialMs: 100, maxMs: 1_000 },
            },
          },
        };
      },
    });
    app = rig.app;
  });

  afterAll(async () => {
    await rig?.stop();
    await peer?.close();
  });

  it('inspects the part when the trigger node rises and writes its verdict to the PLC', async () => {
    // the link connects in the background: pulse until the verdict for A-77 comes back
    await waitFor(
      async () => {
        await peer.command({ cmd: 'set', node: 'Line1.TriggerPartId', value: 'A-77' });
        await peer.command({ cmd: 'set', node: 'Line1.Trigger', value: false });
        await peer.command({ cmd: 'set', node: 'Line1.Trigger', value: true });
        await waitFor(() => peer.writes('Line1.PartId').some((w) => w.value === 'A-77'), 1_000, 'verdict').catch(() => undefined);
        return peer.writes('Line1.PartId').some((w) => w.value === 'A-77');
      },
      30_000,
      'verdict for A-77 written to the PLC',
    );
    // the verdict's nodes are written one after the other: the ones after PartId may still be on their way
    const verdictWrites = () => {
      const written = peer.writes().filter((w) => w.status === 'Good');
      const at = written.findIndex((w) => w.node === 'Line1.PartId' && w.value === 'A-77');
      return written.slice(at - 2, at + 3);
    };
    await waitFor(() => verdictWrites().length === 5, 5_000, 'every node of the verdict written');
    expect(verdictWrites().map((w) => [w.node, w.value])).toEqual([
      ['Line1.Outcome', 'pass'],
      ['Line1.Score', expect.any(Number)],
      ['Line1.PartId', 'A-77'],
      ['Line1.Timestamp', expect.any(String)],
      ['Line1.Camera', 'cam1'],
    ]);
    // the PLC sink runs first (the reject signal holds nothing up): the count may follow the write
    await waitFor(() => (app.inspector.status().cameras[0]?.counts.pass ?? 0) >= 1, 5_000, 'the pass counted');
  });

  it('goes on making verdicts while the PLC is away, and says so in its health', async () => {
    await peer.kill();
    const before = app.inspector.status().cameras[0]!.counts.pass;
    await app.inspector.inspectNow('cam1', 'B-1');
    expect(app.inspector.status().cameras[0]!.counts.pass).toBe(before + 1);
    await waitFor(() => app.inspector.status().lastErrors?.['plc:opcua'] !== undefined, 20_000, 'PLC error in the health');
    expect(app.inspector.status().lastErrors?.['plc:opcua']).toMatchObject({ code: 'OPCUA_UNAVAILABLE' });
  });
});
