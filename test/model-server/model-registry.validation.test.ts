import { request as httpRequest } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfigLayers } from '../../src/cli/config-options.js';
import { loadConfig } from '../../src/config/load.js';
import { statusSchema } from '../../src/config/slices/status.js';
import { isLookoutError } from '../../src/core/errors.js';
import { createModelServerMetrics } from '../../src/model-server/adapters/prom-metrics.js';
import { HealthServer } from '../../src/model-server/health/health-server.js';
import { lookupRegistry } from '../../src/model-server/registry/registry-file.js';
import { removeDir, silentLog, tempDir } from '../peers/edge-agent-peer.js';

/** The model registry file and the configuration that points at it. */

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map(removeDir));
});

async function registryWith(files: Record<string, string>): Promise<string> {
  const dir = await tempDir('le-registry-');
  dirs.push(dir);
  await mkdir(dir, { recursive: true });
  for (const [name, body] of Object.entries(files)) await writeFile(join(dir, name), body);
  return dir;
}

describe('model registry file', () => {
  it('is found, missing, or invalid with a reason naming the file', async () => {
    const dir = await registryWith({
      'good.json': JSON.stringify({ component: 'good', version: '1.0.0', path: '/greengrass/v2/packages/artifacts-unarchived/good/1.0.0/model', writtenAt: 'extra keys pass' }),
      'relative.json': JSON.stringify({ component: 'relative', version: '1', path: 'models/relative' }),
      'other.json': JSON.stringify({ component: 'someone-else', version: '1', path: '/m' }),
      'noversion.json': JSON.stringify({ component: 'noversion', path: '/m' }),
      'garbled.json': '{"component": ',
    });
    expect(await lookupRegistry(dir, 'good')).toMatchObject({ kind: 'found', record: { component: 'good', version: '1.0.0', path: '/greengrass/v2/packages/artifacts-unarchived/good/1.0.0/model' } });
    expect(await lookupRegistry(dir, 'absent')).toEqual({ kind: 'missing', file: join(dir, 'absent.json') });
    const reasons = await Promise.all(['relative', 'other', 'noversion', 'garbled'].map(async (c) => {
      const l = await lookupRegistry(dir, c);
      return l.kind === 'invalid' ? `${l.error.code} ${l.error.message}` : l.kind;
    }));
    expect(reasons[0]).toMatch(/^MODEL_MANIFEST_INVALID model registry file .*relative\.json is invalid: path: must be an absolute path$/);
    expect(reasons[1]).toMatch(/other\.json is for component someone-else, not other$/);
    expect(reasons[2]).toMatch(/noversion\.json is invalid: version: /);
    expect(reasons[3]).toMatch(/garbled\.json is not valid JSON/);
  });
});

describe('modelServer.registryDir configuration', () => {
  it('an entry without path needs registryDir; the error names the entry', () => {
    const err = (() => {
      try {
        loadConfig([{ source: 'test', values: { modelServer: { models: [{ component: 'with-path', path: '/m' }, { component: 'widgets-model' }] } } }]);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(isLookoutError(err, 'CONFIG_INVALID') && err.details?.problems).toEqual([
      'modelServer.models.1.path: model widgets-model has no path: set its path, or modelServer.registryDir (LOOKOUT_EDGE_MODEL_REGISTRY) to find it in the model registry',
    ]);
    expect(loadConfig([{ source: 'test', values: { modelServer: { registryDir: '/r', models: [{ component: 'widgets-model' }] } } }]).modelServer.models).toEqual([{ component: 'widgets-model', startOnBoot: true }]);
  });

  it('LOOKOUT_EDGE_MODEL_REGISTRY sets registryDir in the environment layer, below files and flags', async () => {
    const env = { LOOKOUT_EDGE_MODEL_REGISTRY: '/greengrass/v2/work/com.lookoutedge.ModelServer/model-registry', AWS_IOT_THING_NAME: 'thing-1' };
    const resolved = await resolveConfigLayers({ set: ['modelServer.models.0.component=widgets-model'] }, env);
    expect(resolved.config.modelServer.registryDir).toBe(env.LOOKOUT_EDGE_MODEL_REGISTRY);
    expect(resolved.config.thingName).toBe('thing-1');
    const overridden = await resolveConfigLayers({ set: ['modelServer.registryDir=/elsewhere'] }, env);
    expect(overridden.config.modelServer.registryDir).toBe('/elsewhere');
  });
});

describe('model server health endpoint', () => {
  it('refuses a non-loopback host without a token, as the inspector does', () => {
    const make = (values: Record<string, unknown>) => () =>
      new HealthServer({ config: statusSchema.parse(values), snapshot: () => ({ listening: true, models: [], waiting: [], queue: { active: 0, waiting: 0, completed: 0, rejected: 0, abandoned: 0, skipped: 0, reservedBytes: 0, readingBytes: 0, readsWaiting: 0, overBudget: 0, readTimeouts: 0, peakBytes: 0 } }), metrics: createModelServerMetrics({ defaultMetrics: false }), log: silentLog });
    expect(make({ host: '0.0.0.0' })).toThrow(/required when status\.host \(0\.0\.0\.0\) is not a loopback address/);
    expect(make({ host: '0.0.0.0', token: 'secret' })).not.toThrow();
  });

  it('asks for the token on /readyz and /metrics but not /healthz', async () => {
    const health = new HealthServer({
      config: statusSchema.parse({ port: 0, token: 'letmein' }),
      snapshot: () => ({ listening: true, models: [], waiting: [], queue: { active: 0, waiting: 0, completed: 0, rejected: 2, abandoned: 0, skipped: 0, reservedBytes: 0, readingBytes: 0, readsWaiting: 0, overBudget: 0, readTimeouts: 0, peakBytes: 0 } }),
      metrics: createModelServerMetrics({ defaultMetrics: false }),
      log: silentLog,
    });
    await health.start();
    try {
      const url = health.address().url;
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/readyz`)).status).toBe(401);
      expect((await fetch(`${url}/metrics`)).status).toBe(401);
      const auth = { headers: { authorization: 'Bearer letmein' } };
      expect((await fetch(`${url}/readyz`, auth)).status).toBe(200);
      expect(await (await fetch(`${url}/metrics`, auth)).text()).toMatch(/lookout_edge_model_server_rejected_total 2/);
      expect((await fetch(`${url}/readyz`, { method: 'POST', ...auth })).status).toBe(405);
    } finally {
      await health.stop();
    }
  });

  it('throttles wrong tokens per address but always lets the right one through (operators behind one NAT address)', async () => {
    const health = makeHealth({ port: 0, token: 'the-right-token-1234' });
    await health.start();
    try {
      const url = health.address().url;
      const wrong = await Promise.all(Array.from({ length: 12 }, (_, i) => fetch(`${url}/readyz`, { headers: { authorization: `Bearer guess-${i}` } }).then((r) => r.status)));
      expect(wrong.filter((s) => s === 401)).toHaveLength(10);
      expect((await fetch(`${url}/readyz`, { headers: { authorization: 'Bearer guess-x' } })).status).toBe(429);
      expect((await fetch(`${url}/readyz`, { headers: { authorization: 'Bearer the-right-token-1234' } })).status).toBe(200);
    } finally {
      await health.stop();
    }
  });

  it('without a token answers only loopback Host names (DNS rebinding), and refuses status.tls it cannot serve', async () => {
    expect(() => makeHealth({ tls: { certFile: '/x.pem', keyFile: '/y.pem' } })).toThrow(/status\.tls: the model server's health endpoint speaks plain HTTP only/);
    const health = makeHealth({ port: 0 });
    await health.start();
    try {
      const { port } = health.address();
      const statusFor = (host: string) =>
        new Promise<number>((resolve, reject) => {
          const req = httpRequest({ host: '127.0.0.1', port, path: '/metrics', headers: { host } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
          req.end();
        });
      expect(await statusFor(`localhost:${port}`)).toBe(200);
      expect(await statusFor(`attacker.example:${port}`)).toBe(421);
    } finally {
      await health.stop();
    }
  });
});

function makeHealth(values: Record<string, unknown>): HealthServer {
  return new HealthServer({
    config: statusSchema.parse(values),
    snapshot: () => ({ listening: true, models: [], waiting: [], queue: { active: 0, waiting: 0, completed: 0, rejected: 0, abandoned: 0, skipped: 0, reservedBytes: 0, readingBytes: 0, readsWaiting: 0, overBudget: 0, readTimeouts: 0, peakBytes: 0 } }),
    metrics: createModelServerMetrics({ defaultMetrics: false }),
    log: silentLog,
  });
}
