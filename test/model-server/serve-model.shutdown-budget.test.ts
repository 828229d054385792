import { lstat, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/core/log.js';
import { ModelStatus } from '../../src/core/model.js';
import { createGrpcEdgeAgentServer } from '../../src/model-server/adapters/grpc-server.js';
import { createModelServerMetrics } from '../../src/model-server/adapters/prom-metrics.js';
import { ModelServerService } from '../../src/model-server/model-server-service.js';
import { grpc, image, manifest, rawClient, removeDir, type Script, scriptedRuntime, statusOf, tempDir, waitFor } from '../peers/edge-agent-peer.js';

/** SIGTERM → SIGKILL is 5 s on a nucleus: serve-model's stop caps the drain and the unload, and says what it cut. */

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('ModelServerService.stop', () => {
  it('is done within 4 s with a call that would run for 20 s, logs the cut call, and removes the socket', async () => {
    const dir = await tempDir('le-sm-stop-');
    cleanup.push(() => removeDir(dir));
    await mkdir(join(dir, 'hung'));
    await writeFile(join(dir, 'hung', 'manifest.json'), JSON.stringify(manifest()));
    const socket = join(dir, 'agent.sock');
    const config = loadConfig([{ source: 'test', values: { modelServer: { socket, models: [{ component: 'hung', path: join(dir, 'hung') }] } } }]);
    let started = false;
    const script: Script = { inferDelayMs: 20_000, onInfer: () => (started = true) };
    const lines: Array<Record<string, unknown>> = [];
    const out = new PassThrough();
    out.on('data', (d: Buffer) => d.toString().split('\n').filter(Boolean).forEach((l) => lines.push(JSON.parse(l) as Record<string, unknown>)));
    const service = new ModelServerService({ config, runtimes: { scripted: scriptedRuntime(script) }, metrics: createModelServerMetrics({ defaultMetrics: false }), createRpcServer: createGrpcEdgeAgentServer, log: createLogger('info', out), statusConfigured: false });
    await service.start();
    cleanup.push(() => service.stop('cleanup'));
    await waitFor(() => service.edgeAgent?.models()[0]?.status === ModelStatus.RUNNING);
    const c = rawClient(`unix://${socket}`, { keepCase: true });
    cleanup.push(() => c.close());
    const call = statusOf(c.call('DetectAnomalies', { model_component: 'hung', bitmap: { width: 64, height: 64, byte_data: image(64, 64).pixels } }, 30_000));
    await waitFor(() => started);

    const t0 = Date.now();
    await service.stop('SIGTERM');
    expect(Date.now() - t0).toBeLessThan(4_000);
    expect(await call).toBe(grpc.status.UNAVAILABLE);
    expect(Date.now() - t0).toBeLessThan(4_000);
    await expect(lstat(socket)).rejects.toThrow(/ENOENT/);
    expect(lines.find((l) => l.msg === 'calls still running at the shutdown grace were cut (answered UNAVAILABLE)')).toMatchObject({ inferencesAtStop: 1, callsCut: 1 });
    expect(lines.find((l) => l.msg === 'models still loading or unloading at shutdown; leaving them')).toMatchObject({ models: ['hung'] });
  });
});
