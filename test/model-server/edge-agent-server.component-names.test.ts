import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grpc, image, rawClient, removeDir, startServer, waitFor, type RawClient, type TestServer } from '../peers/edge-agent-peer.js';

/** Hostile component names (issue 17, item 11): refused quickly with INVALID_ARGUMENT, never echoed whole. */

let agent: TestServer;
let c: RawClient;

beforeAll(async () => {
  agent = await startServer([{ component: 'classify' }]);
  c = rawClient(agent.address, { keepCase: true, defaults: true, oneofs: true });
  await waitFor(async () => (await c.call<{ models: { status: number }[] }>('ListModels', {})).models[0]?.status === 2);
});

afterAll(async () => {
  c.close();
  await agent.stop();
  await removeDir(agent.dir);
});

const request = (method: string, name: string): Record<string, unknown> =>
  method === 'DetectAnomalies' ? { model_component: name, bitmap: { width: 64, height: 64, byte_data: image(64, 64).pixels } } : { model_component: name };

async function refusal(method: string, name: string): Promise<grpc.ServiceError> {
  try {
    await c.call(method, request(method, name), 3_000);
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error(`${method} accepted ${name.length} characters`);
}

const METHODS = ['DescribeModel', 'StartModel', 'StopModel', 'DetectAnomalies'];

describe('component names', () => {
  it.each(METHODS)('%s refuses a 100 KiB name with INVALID_ARGUMENT and a short message', async (method) => {
    const err = await refusal(method, 'x'.repeat(100 * 1024));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details.length).toBeLessThan(300);
  });

  it.each(METHODS)('%s refuses 129 characters, and names outside [a-zA-Z0-9-_.], with INVALID_ARGUMENT', async (method) => {
    for (const name of ['a'.repeat(129), 'model/../x', 'bad name', '']) {
      expect((await refusal(method, name)).code).toBe(grpc.status.INVALID_ARGUMENT);
    }
  });

  it('a well-formed unknown name of 128 characters is still NOT_FOUND, and the server keeps serving', async () => {
    expect((await refusal('DescribeModel', 'a'.repeat(128))).code).toBe(grpc.status.NOT_FOUND);
    const res = await c.call<{ detect_anomaly_result: { is_anomalous: boolean } }>('DetectAnomalies', request('DetectAnomalies', 'classify'));
    expect(res.detect_anomaly_result.is_anomalous).toBe(false);
  });
});
