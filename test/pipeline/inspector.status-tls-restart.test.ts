import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLookoutError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/log.js';
import { type InspectorApp, startInspectorApp } from '../../src/main.js';
import { removeDir, startServer, tempDir, type TestServer } from '../peers/edge-agent-peer.js';
import { httpsRequest, selfSigned } from '../helpers/tls.js';
import { inspectorConfig } from './kit.js';

/** A live configuration change that brings an unusable certificate leaves the running HTTPS server as it is. */
describe('inspector: status server restart with a bad certificate', () => {
  let dir: string;
  let agent: TestServer;
  let app: InspectorApp;
  let files: { certFile: string; keyFile: string };
  let other: { certFile: string; keyFile: string };

  beforeAll(async () => {
    dir = await tempDir('le-status-tls-');
    agent = await startServer([{ component: 'm1', manifest: { input: { width: 96, height: 96 } } }], { dir });
    files = await selfSigned(dir, 'status');
    other = await selfSigned(dir, 'other');
    const config = inspectorConfig(dir, { inference: { endpoint: agent.address, modelComponent: 'm1' }, status: { port: 0, tls: files } });
    app = await startInspectorApp(config, { log: createLogger('silent') });
  });

  afterAll(async () => {
    await app?.stop('test');
    await agent?.stop();
    await removeDir(dir);
  });

  it('refuses the new slice with CONFIG_INVALID and keeps serving HTTPS with the old certificate', async () => {
    const url = app.statusUrl?.replace('127.0.0.1', 'localhost') ?? '';
    expect(url).toMatch(/^https:\/\/localhost:\d+$/);
    const ca = await readFile(files.certFile);
    expect((await httpsRequest(`${url}/healthz`, ca)).status).toBe(200);

    const caught = await app.restartStatus({ ...app.config.status, tls: { certFile: files.certFile, keyFile: other.keyFile } }).catch((err: unknown) => err);
    expect(isLookoutError(caught, 'CONFIG_INVALID')).toBe(true);
    expect((await httpsRequest(`${url}/healthz`, ca)).status).toBe(200);
  });
});
