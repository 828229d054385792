import { afterEach, describe, expect, it } from 'vitest';
import { startInspectorApp } from '../../src/main.js';
import { memoryLogger } from '../sources/kit.js';
import { removeDir, startServer, tempDir, waitFor } from '../peers/edge-agent-peer.js';
import { greyCamera, inspectorConfig } from './kit.js';

/**
 * Issue 17, item 12: a trigger refused because the camera's queue is full is logged by whoever asked
 * (here the HTTP API's audit line), not a second time by the camera worker.
 */

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => undefined);
});

describe('a refused trigger', () => {
  it('is logged by its caller, not by the camera worker as well', async () => {
    const dir = await tempDir('le-refused-');
    cleanup.push(() => removeDir(dir));
    const agent = await startServer([{ component: 'm1', script: { inferDelayMs: 300 }, manifest: { input: { width: 96, height: 96 } } }], { dir });
    cleanup.push(() => agent.stop());
    const camera = await greyCamera(0x20);
    cleanup.push(() => camera.stop());
    const { log, lines } = memoryLogger('info');
    const config = inspectorConfig(dir, {
      inference: { endpoint: agent.address, modelComponent: 'm1' },
      cameras: [{ id: 'cam1', source: { type: 'http', url: `${camera.url}/snapshot.jpg` }, trigger: { enabled: true, queueSize: 1 } }],
      status: { port: 0 },
    });
    const app = await startInspectorApp(config, { log });
    cleanup.push(() => app.stop('test'));
    await waitFor(() => app.inspector.status().model.status === 'RUNNING', 10_000, 'model RUNNING');

    const trigger = (partId: string) =>
      fetch(`${app.statusUrl!}/api/cameras/cam1/trigger`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ partId }) });
    const answers = await Promise.all(['p1', 'p2', 'p3', 'p4', 'p5', 'p6'].map(trigger));
    const bodies = (await Promise.all(answers.map((r) => r.text()))).filter((b) => b.includes('QUEUE_FULL'));
    expect(bodies.length).toBeGreaterThanOrEqual(1);
    expect(answers.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(2);
    // the refusal is the caller's to report: the HTTP API's audit line (the status server's own
    // `request failed` line is src/status's to drop), never the camera worker too
    const logged = lines.filter((l) => l.includes('QUEUE_FULL'));
    expect(logged.filter((l) => l.includes('"stage":"camera"'))).toEqual([]);
    expect(logged.filter((l) => l.includes('"stage":"audit"'))).toHaveLength(bodies.length);
  });
});
