import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectCommand } from '../../../src/cli/inspect.js';
import { preprocessSchema } from '../../../src/config/slices/preprocess.js';
import { createEdgeAgentRpc } from '../../../src/inference/adapters/grpc-channel.js';
import { EdgeAgentClient } from '../../../src/inference/edge-agent-client.js';
import { EdgeAgentServer } from '../../../src/model-server/edge-agent-server.js';
import { createGrpcEdgeAgentServer } from '../../../src/model-server/adapters/grpc-server.js';
import { RUNTIMES, readManifest } from '../../../src/model-server/runtimes/index.js';
import { modelServerSchema } from '../../../src/config/slices/model-server.js';
import { createPreprocessor } from '../../../src/preprocess/create-preprocessor.js';
import { evaluateModel } from '../../../src/model-server/train/evaluate.js';
import { loadDataset } from '../../../src/model-server/train/load-dataset.js';
import { generateDataset } from '../../../src/model-server/train/synthetic.js';
import { trainModel } from '../../../src/model-server/train/trainer.js';
import { clientConfig, silentLog } from '../../peers/edge-agent-peer.js';

/**
 * One preprocessing contract: a frame scores the same whether `lookout-edge evaluate` reads it, `inspect`
 * reads it, or a camera sends it whole through the live preprocessing and the model server's socket.
 * The images are larger than the model's input, so every path has to resize them.
 */
let dir: string;
let files: string[];
let modelDir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'le-same-score-'));
  await generateDataset(join(dir, 'data'), { normal: 20, anomalous: 2, testNormal: 2, testAnomalous: 2, seed: 5, size: 300 });
  const ds = await loadDataset({ path: join(dir, 'data') });
  modelDir = join(dir, 'model');
  await trainModel(ds.train, { name: 'same', version: '1.0.0', output: modelDir, longestSide: 128 });
  files = ds.test.map((e) => e.image);
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function byEvaluate(): Promise<number[]> {
  const ds = await loadDataset({ path: join(dir, 'data') });
  const report = await evaluateModel(modelDir, ds.test);
  return files.map((f) => report.perImage.find((p) => p.image === f)!.score);
}

async function byInspect(): Promise<number[]> {
  const out = join(dir, 'inspect.json');
  const quiet = new Writable({ write: (_c, _e, cb) => cb() });
  await inspectCommand({ stdout: quiet, stderr: quiet }).parseAsync([join(dir, 'data', 'test'), '-r', '--model', modelDir, '--out', out], { from: 'user' });
  const rows = (JSON.parse(await readFile(out, 'utf8')) as { rows: { file: string; score: number }[] }).rows;
  return files.map((f) => rows.find((r) => f.endsWith(r.file))!.score);
}

async function byLivePath(): Promise<number[]> {
  const socket = join(dir, 'agent.sock');
  const manifest = await readManifest(modelDir);
  const entries = [{ component: 'same', dir: modelDir, manifest, runtime: RUNTIMES['builtin']!, startOnBoot: true, modelArn: 'arn:aws:lookoutvision:us-east-1:123456789012:model/same/1' }];
  const server = new EdgeAgentServer({ config: modelServerSchema.parse({ socket }), entries, log: silentLog, createRpcServer: createGrpcEdgeAgentServer, shutdownGraceMs: 2_000 });
  await server.start();
  const client = new EdgeAgentClient({ connect: createEdgeAgentRpc, config: clientConfig(server.address, { modelStartTimeoutMs: 30_000 }), log: silentLog });
  try {
    await client.start();
    await client.ensureRunning('same');
    // The camera default: no preprocess size, the frame goes whole (after orientation) to the model.
    const preprocessor = createPreprocessor(preprocessSchema.parse({}));
    const scores: number[] = [];
    for (const [i, f] of files.entries()) {
      const image = await preprocessor.run({ id: `cam-${i}`, cameraId: 'cam', capturedAt: Date.now(), data: { kind: 'encoded', bytes: await readFile(f) } });
      scores.push((await client.detect('same', image, { wantMask: false })).anomalyScore!);
    }
    return scores;
  } finally {
    await client.stop('test done');
    await server.stop('test done');
  }
}

describe('the same frame scores the same by every path', () => {
  it('evaluate, inspect --model and the live path (preprocessor, model server) agree within 1e-6', async () => {
    const evaluated = await byEvaluate();
    const inspected = await byInspect();
    const live = await byLivePath();
    expect(evaluated).toHaveLength(4);
    for (let i = 0; i < files.length; i++) {
      expect(Math.abs(inspected[i]! - evaluated[i]!), `inspect vs evaluate, ${files[i]}`).toBeLessThan(1e-6);
      expect(Math.abs(live[i]! - evaluated[i]!), `live vs evaluate, ${files[i]}`).toBeLessThan(1e-6);
    }
  }, 120_000);
});
