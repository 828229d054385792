import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { type InspectorApp, startInspectorApp } from '../../src/main.js';
import { opcuaCertificate } from '../helpers/opcua-certs.js';
import type { HttpCamera } from '../peers/http-camera.js';
import { type OpcuaPeer, startOpcuaPeer } from '../peers/opcua-peer.js';
import { removeDir, startServer, tempDir, type TestServer, waitFor } from '../peers/edge-agent-peer.js';
import { LINE1 } from '../plc/opcua-kit.js';
import { greyCamera, inspectorConfig } from './kit.js';

/**
 * The line's light barrier sets the PLC's trigger node with a part id; the inspector (the real app) takes
 * one frame, and the verdict for that part comes back to the PLC's verdict nodes over OPC UA. A PLC that
 * goes away does not stop verdicts: the health shows it.
 */
describe('inspector: trigger and verdict over OPC UA', () => {
  let dir: string;
  let agent: TestServer;
  let camera: HttpCamera;
  let peer: OpcuaPeer;
  let app: InspectorApp;

  beforeAll(async () => {
    dir = await tempDir('le-opcua-e2e-');
    const mine = await opcuaCertificate(dir, 'lookout');
    agent = await startServer([{ component: 'm1', manifest: { input: { width: 128, height: 96 } } }], { dir });
    camera = await greyCamera(0x20, 128, 96);
    peer = await startOpcuaPeer();
    const config = inspectorConfig(dir, {
      inference: { endpoint: agent.address, modelComponent: 'm1' },
      cameras: [{ id: 'cam1', source: { type: 'http', url: `${camera.url}/snapshot.jpg` }, trigger: { enabled: true } }],
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
    });
    app = await startInspectorApp(config, { log: createLogger('silent') });
    await waitFor(() => app.inspector.status().model.status === 'RUNNING', 10_000, 'model RUNNING');
  });

  afterAll(async () => {
    await app?.stop('test');
    await peer?.close();
    await camera?.stop();
    await agent?.stop();
    await removeDir(dir);
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
    const written = peer.writes().filter((w) => w.status === 'Good');
    const at = written.findIndex((w) => w.node === 'Line1.PartId' && w.value === 'A-77');
    expect(written.slice(at - 2, at + 3).map((w) => [w.node, w.value])).toEqual([
      ['Line1.Outcome', 'pass'],
      ['Line1.Score', expect.any(Number)],
      ['Line1.PartId', 'A-77'],
      ['Line1.Timestamp', expect.any(String)],
      ['Line1.Camera', 'cam1'],
    ]);
    expect(app.inspector.status().cameras[0]?.counts.pass).toBeGreaterThanOrEqual(1);
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
