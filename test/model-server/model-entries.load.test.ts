import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { modelServerSchema } from '../../src/config/slices/model-server.js';
import { loadModelEntries } from '../../src/model-server/model-entries.js';
import { noopRuntime } from '../../src/model-server/runtimes/noop.js';
import { ModelStatus } from '../../src/core/model.js';
import { createGrpcEdgeAgentServer } from '../../src/model-server/adapters/grpc-server.js';
import { EdgeAgentServer } from '../../src/model-server/edge-agent-server.js';
import { manifest, removeDir, silentLog, tempDir, waitFor } from '../peers/edge-agent-peer.js';

/** Reading model directories: modelsDir sub-folders with manifest.json, plus explicit models[] entries. */

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map(removeDir));
});

async function modelDir(root: string, name: string, body: unknown): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'manifest.json'), typeof body === 'string' ? body : JSON.stringify(body));
  return dir;
}

describe('loadModelEntries', () => {
  it('serves every modelsDir sub-folder with a manifest under its name; models[] entries add to and override them', async () => {
    const root = await tempDir();
    dirs.push(root);
    await modelDir(root, 'alpha', manifest({ runtime: 'noop', modelArn: 'arn:aws:lookoutvision:eu-west-1:1:model/alpha/3' }));
    await modelDir(root, 'beta', manifest({ runtime: 'noop' }));
    await mkdir(join(root, 'not-a-model'));
    const elsewhere = await modelDir(root, 'other/gamma', manifest({ runtime: 'noop', classes: [{ name: 'crack', hexColor: '#FF0000' }] }));
    const config = modelServerSchema.parse({ modelsDir: root, models: [{ component: 'gamma', path: elsewhere, startOnBoot: false }, { component: 'beta', path: elsewhere }] });
    const entries = await loadModelEntries(config, { noop: noopRuntime });
    const by = Object.fromEntries(entries.map((e) => [e.component, e]));
    expect(Object.keys(by).sort()).toEqual(['alpha', 'beta', 'gamma']);
    expect(by.alpha?.modelArn).toBe('arn:aws:lookoutvision:eu-west-1:1:model/alpha/3');
    expect(by.alpha?.runtime).toBe(noopRuntime);
    expect(by.gamma?.startOnBoot).toBe(false);
    expect(by.beta?.dir).toBe(elsewhere);
    expect(by.beta?.manifest?.classes).toHaveLength(1);
  });

  it('an entry given only a dir reads its manifest when the model starts; a bad one makes the model FAILED', async () => {
    const root = await tempDir();
    dirs.push(root);
    const good = await modelDir(root, 'good', manifest({ runtime: 'noop' }));
    const bad = await modelDir(root, 'bad', '{}');
    const config = modelServerSchema.parse({ socket: join(root, 'agent.sock') });
    const server = new EdgeAgentServer({ config, log: silentLog, createRpcServer: createGrpcEdgeAgentServer, entries: [{ component: 'good', dir: good, runtime: noopRuntime }, { component: 'bad', dir: bad, runtime: noopRuntime }] });
    await server.start();
    try {
      await waitFor(() => server.models().every((m) => m.status === ModelStatus.RUNNING || m.status === ModelStatus.FAILED));
      const by = Object.fromEntries(server.models().map((m) => [m.component, m]));
      expect(by.good?.status).toBe(ModelStatus.RUNNING);
      expect(by.bad).toMatchObject({ status: ModelStatus.FAILED, statusMessage: expect.stringMatching(/formatVersion/) });
    } finally {
      await server.stop();
    }
  });

  it('fails fast, naming the file and every problem, on an invalid manifest', async () => {
    const root = await tempDir();
    dirs.push(root);
    await modelDir(root, 'bad', { formatVersion: 2, runtime: 'noop', name: 'x', version: '1', input: { width: 32, height: 64 }, threshold: 3, classes: [{ name: 'a', hexColor: 'red' }] });
    const err = await loadModelEntries(modelServerSchema.parse({ modelsDir: root }), { noop: noopRuntime }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MODEL_MANIFEST_INVALID' });
    const message = (err as Error).message;
    for (const part of ['bad/manifest.json', 'formatVersion', 'input.width', 'threshold', 'classes.0.hexColor']) expect(message).toContain(part);
  });

  it('rejects broken JSON, an unknown runtime and a missing model directory', async () => {
    const root = await tempDir();
    dirs.push(root);
    const broken = await modelDir(root, 'broken', '{"formatVersion": 1,');
    const unknown = await modelDir(root, 'unknown', manifest({ runtime: 'tensorflow-lite' }));
    const load = (path: string) => loadModelEntries(modelServerSchema.parse({ models: [{ component: 'm', path }] }), { noop: noopRuntime });
    await expect(load(broken)).rejects.toMatchObject({ code: 'MODEL_MANIFEST_INVALID', message: expect.stringMatching(/not valid JSON/) });
    await expect(load(unknown)).rejects.toMatchObject({ code: 'MODEL_MANIFEST_INVALID', message: expect.stringMatching(/unknown runtime "tensorflow-lite"/) });
    await expect(load(join(root, 'missing'))).rejects.toMatchObject({ code: 'MODEL_MANIFEST_INVALID', message: expect.stringMatching(/manifest.json is missing/) });
  });
});
