import { execFileSync } from 'node:child_process';
import { chown, link, mkdir, readdir, readFile, symlink, unlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import mqtt from 'mqtt';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InspectorApp, startInspectorApp } from '../../src/main.js';
import type { HttpCamera } from '../peers/http-camera.js';
import { grpc, rawClient, type RawClient, removeDir, startServer, tempDir, type TestServer, waitFor } from '../peers/edge-agent-peer.js';
import { freePort, type MosquittoPeer, startMosquitto } from '../peers/mosquitto.js';
import { greyCamera, inspectorConfig } from '../pipeline/kit.js';
import { memoryLogger, waitFor as valueOf } from '../sources/kit.js';

/**
 * The hostile-input suite: inputs an attacker on the gateway or the plant network can send, tried
 * against one running inspector (a folder camera, the status server, MQTT commands and triggers) and
 * its model server, each expecting its clear error, while a witness camera keeps producing verdicts.
 * The count of inputs tried and handled is printed, so it stays visible as the suite grows.
 */

type Outcome = { readonly name: string; readonly expected: string; readonly got: string };
const results: Record<string, Outcome[]> = { frames: [], http: [], mqtt: [], grpc: [] };

let dir: string;
let inbox: string;
let agent: TestServer;
let broker: MosquittoPeer;
let witness: HttpCamera;
let app: InspectorApp;
let statusPort: number;
let plc: mqtt.MqttClient;
let logLines: string[];
const verdicts: Array<Record<string, unknown>> = [];
const responses: Array<Record<string, unknown>> = [];

const witnessVerdicts = (): number => verdicts.filter((v) => v.cameraId === 'witness' && v.basis === 'model').length;

/** Runs `inputs` of one category, then checks the witness camera produced verdicts meanwhile. */
async function category(name: string, run: () => Promise<void>): Promise<void> {
  const before = witnessVerdicts();
  await run();
  await waitFor(() => witnessVerdicts() > before + 2, 15_000, `witness verdicts after the ${name} inputs`);
}

function record(cat: string, name: string, expected: string, got: string): void {
  results[cat]!.push({ name, expected, got });
}

beforeAll(async () => {
  dir = await tempDir('le-hostile-');
  inbox = join(dir, 'inbox');
  await mkdir(inbox);
  agent = await startServer(
    [
      { component: 'm1', manifest: { input: { width: 96, height: 96 } } },
      { component: 'seg', script: { segment: true }, manifest: { input: { width: 96, height: 96 }, classes: [{ name: 'dent', hexColor: '#FF0080' }] } },
    ],
    { dir },
  );
  broker = await startMosquitto();
  witness = await greyCamera(0x20);
  statusPort = await freePort();
  const config = inspectorConfig(dir, {
    thingName: 'gwh',
    inference: { endpoint: agent.address, modelComponent: 'm1' },
    cameras: [
      { id: 'witness', source: { type: 'http', url: `${witness.url}/snapshot.jpg`, intervalMs: 100 } },
      { id: 'drop', source: { type: 'folder', path: inbox, settleMs: 50 }, preprocess: { maxInputBytes: 2 * 1024 * 1024 } },
      { id: 'plc', source: { type: 'http', url: `${witness.url}/snapshot.jpg` }, trigger: { enabled: true } },
    ],
    status: { enabled: true, port: statusPort },
    publish: { cloud: 'mqtt', local: 'none', mqtt: { port: broker.port, clientId: 'gwh-cloud' } },
  });
  const memory = memoryLogger('info');
  logLines = memory.lines;
  app = await startInspectorApp(config, { log: memory.log });
  await waitFor(() => app.inspector.status().model.status === 'RUNNING', 10_000, 'model RUNNING');
  plc = await mqtt.connectAsync(broker.url, { clientId: 'hostile-plc', protocolVersion: 5 });
  plc.on('message', (topic, payload) => {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(payload.toString()) as Record<string, unknown>;
    } catch {
      return;
    }
    (topic.endsWith('/command/response') ? responses : verdicts).push(body);
  });
  await plc.subscribeAsync(['lookout/gwh/+/verdict', 'lookout/gwh/command/response'], { qos: 1 });
  await waitFor(() => witnessVerdicts() > 0, 15_000, 'the first witness verdict');
}, 60_000);

afterAll(async () => {
  const lines = Object.entries(results).map(([cat, list]) => {
    const handled = list.filter((o) => o.got === o.expected).length;
    return `${cat} ${handled}/${list.length}`;
  });
  const all = Object.values(results).flat();
  console.log(`hostile inputs: ${all.filter((o) => o.got === o.expected).length} of ${all.length} handled (${lines.join(', ')})`);
  for (const o of all.filter((x) => x.got !== x.expected)) console.log(`  NOT HANDLED ${o.name}: expected ${o.expected}, got ${o.got}`);
  await plc?.endAsync();
  await app?.stop('test');
  await witness?.stop();
  await broker?.close();
  await agent?.stop();
  await removeDir(dir);
});

// ---- frames dropped into a folder camera ----

const solid = (w: number, h: number) => sharp({ create: { width: w, height: h, channels: 3, background: { r: 0x20, g: 0x20, b: 0x20 } }, limitInputPixels: false });

async function frameInputs(): Promise<Array<{ name: string; expected: string; make: (path: string) => Promise<void> }>> {
  const jpeg = await solid(96, 96).jpeg().toBuffer();
  return [
    { name: 'random.jpg', expected: 'FRAME_CORRUPT', make: (p) => writeFile(p, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251))) },
    { name: 'truncated.jpg', expected: 'FRAME_CORRUPT', make: (p) => writeFile(p, jpeg.subarray(0, Math.floor(jpeg.length / 2))) },
    { name: 'empty.jpg', expected: 'FRAME_CORRUPT', make: (p) => writeFile(p, Buffer.alloc(0)) },
    { name: 'vector.png', expected: 'FRAME_UNSUPPORTED_FORMAT', make: (p) => writeFile(p, '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96"><rect width="96" height="96"/></svg>') },
    { name: 'webp.jpg', expected: 'FRAME_UNSUPPORTED_FORMAT', make: async (p) => writeFile(p, await solid(96, 96).webp().toBuffer()) },
    { name: 'anim.jpg', expected: 'FRAME_UNSUPPORTED_FORMAT', make: async (p) => writeFile(p, await solid(96, 96).gif().toBuffer()) },
    { name: 'sliver.png', expected: 'FRAME_INVALID_SIZE', make: async (p) => writeFile(p, await solid(4000, 50).png().toBuffer()) },
    { name: 'bomb.png', expected: 'FRAME_TOO_LARGE', make: async (p) => writeFile(p, await solid(20_000, 20_000).png({ compressionLevel: 9 }).toBuffer()) },
    { name: 'huge.jpg', expected: 'FRAME_TOO_LARGE', make: (p) => writeFile(p, Buffer.concat([jpeg, Buffer.alloc(3 * 1024 * 1024)])) },
    { name: 'escape.jpg', expected: 'PATH_ESCAPE', make: (p) => symlink('/etc/passwd', p) },
    { name: 'dangling.jpg', expected: 'PATH_ESCAPE', make: (p) => symlink('/nonexistent/x.jpg', p) },
    { name: 'greyalpha.png', expected: 'model verdict', make: async (p) => writeFile(p, await sharp({ create: { width: 96, height: 96, channels: 4, background: { r: 9, g: 9, b: 9, alpha: 0.5 } } }).toColourspace('b-w').png().toBuffer()) },
    { name: 'cmyk.jpg', expected: 'model verdict', make: async (p) => writeFile(p, await solid(96, 96).toColourspace('cmyk').jpeg().toBuffer()) },
  ];
}

describe('hostile inputs', () => {
  it('frames: every bad file gets its clear error and ends in failed/, good odd ones get a verdict', async () => {
    await category('frame', async () => {
      for (const input of await frameInputs()) {
        const before = verdicts.filter((v) => v.cameraId === 'drop').length;
        await input.make(join(inbox, input.name));
        const got = await valueOf(
          async () => {
            const verdict = verdicts.filter((v) => v.cameraId === 'drop')[before];
            if (verdict) return verdict.basis === 'model' ? 'model verdict' : String((verdict.error as { code?: string } | undefined)?.code);
            const failed = await readdir(join(inbox, 'failed')).catch(() => [] as string[]);
            const lastError = app.inspector.status().cameras.find((c) => c.id === 'drop')?.source.lastError;
            // refused before it became a frame: no verdict, the source's error names the file
            if (failed.includes(input.name) && lastError?.message.includes(input.name)) return lastError.code;
            return undefined;
          },
          `the outcome of ${input.name}`,
          15_000,
        );
        record('frames', input.name, input.expected, got);
      }
      // a FIFO and a directory with image names: left alone, and nothing blocks
      execFileSync('mkfifo', [join(inbox, 'pipe.jpg')]);
      await mkdir(join(inbox, 'folder.jpg'));
      const after = verdicts.filter((v) => v.cameraId === 'drop').length;
      await writeFile(join(inbox, 'after.jpg'), await solid(96, 96).jpeg().toBuffer());
      const next = await valueOf(() => verdicts.filter((v) => v.cameraId === 'drop')[after], 'a verdict after the FIFO', 15_000);
      record('frames', 'pipe.jpg + folder.jpg', 'left alone', next.basis === 'model' ? 'left alone' : String(next.basis));
    });
    expect(results.frames!.filter((o) => o.got !== o.expected)).toEqual([]);
  }, 120_000);
});

// ---- the status server (tokenless on loopback, the default) ----

function http(method: string, path: string, opts: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: statusPort, method, path, headers: { 'content-type': 'application/json', ...opts.headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('hostile inputs', () => {
  it('HTTP: each refused with its status, state unchanged', async () => {
    const polluted = '{"__proto__":{"polluted":true},"camera":"*","threshold":0.4}';
    const inputs: Array<{ name: string; expected: number; send: () => Promise<number> }> = [
      { name: 'a 1 MiB trigger body', expected: 413, send: () => http('POST', '/api/cameras/plc/trigger', { body: Buffer.alloc(1 << 20, 0x20) }) },
      { name: 'malformed JSON', expected: 400, send: () => http('POST', '/api/cameras/plc/trigger', { body: '{"partId":' }) },
      { name: 'a foreign Host (DNS rebinding)', expected: 421, send: () => http('POST', '/api/threshold', { headers: { host: 'evil.example:8080' }, body: '{"camera":"*","threshold":0.9}' }) },
      { name: 'a cross-origin state change', expected: 403, send: () => http('POST', '/api/threshold', { headers: { origin: 'http://evil.example' }, body: '{"camera":"*","threshold":0.9}' }) },
      { name: 'a path traversal', expected: 404, send: () => http('GET', '/api/cameras/..%2F..%2Fetc%2Fpasswd/latest.jpg') },
      { name: 'an unknown camera', expected: 404, send: () => http('POST', '/api/cameras/nope/trigger', { body: '{}' }) },
      { name: 'a threshold out of range', expected: 400, send: () => http('POST', '/api/threshold', { body: '{"camera":"*","threshold":5}' }) },
      { name: 'an 80 KiB header', expected: 431, send: () => http('GET', '/api/status', { headers: { 'x-pad': 'a'.repeat(80 * 1024) } }) },
      { name: 'a method the route does not have', expected: 405, send: () => http('DELETE', '/api/status') },
      { name: 'a 10k-character part id', expected: 400, send: () => http('POST', '/api/cameras/plc/trigger', { body: JSON.stringify({ partId: 'p'.repeat(10_000) }) }) },
      { name: 'a __proto__ key', expected: 400, send: () => http('POST', '/api/threshold', { body: polluted }) },
      { name: 'a body that is not UTF-8', expected: 400, send: () => http('POST', '/api/cameras/plc/trigger', { body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }) },
    ];
    await category('HTTP', async () => {
      for (const input of inputs) {
        const got = await input.send().catch((err: Error) => `error ${err.message}`);
        record('http', input.name, String(input.expected), String(got));
      }
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(app.inspector.status().cameras.every((c) => c.thresholdOverride === undefined)).toBe(true);
    expect(results.http!.filter((o) => o.got !== o.expected)).toEqual([]);
  }, 60_000);

  it('MQTT: bad commands get an error response, bad triggers a log line, nothing else happens', async () => {
    const send = (payload: string | Buffer) => plc.publishAsync('lookout/gwh/command/request', payload, { qos: 1 });
    const answer = async (transaction: string | null, payload: string | Buffer): Promise<string> => {
      const before = responses.length;
      await send(payload);
      const response = await valueOf(() => responses.slice(before).find((r) => r.transaction === transaction), `the response to ${transaction}`, 10_000);
      return response.ok ? 'ok' : String((response.error as { code?: string }).code);
    };
    const commands: Array<{ name: string; expected: string; transaction: string | null; payload: string | Buffer }> = [
      { name: 'not JSON', expected: 'PAYLOAD_INVALID', transaction: null, payload: 'pause everything' },
      { name: 'a 100 KiB request', expected: 'PAYLOAD_INVALID', transaction: null, payload: JSON.stringify({ transaction: 'big', command: 'pause', camera: 'plc', pad: 'x'.repeat(100 * 1024) }) },
      { name: 'an unknown command', expected: 'COMMAND_INVALID', transaction: 'h1', payload: '{"transaction":"h1","command":"rm -rf /"}' },
      { name: 'a threshold that is a string', expected: 'COMMAND_INVALID', transaction: 'h2', payload: '{"transaction":"h2","command":"set-threshold","threshold":"0.1"}' },
      { name: 'an unknown camera', expected: 'COMMAND_INVALID', transaction: 'h3', payload: '{"transaction":"h3","command":"pause","camera":"nope"}' },
      { name: 'a camera id with a path in it', expected: 'COMMAND_INVALID', transaction: 'h4', payload: '{"transaction":"h4","command":"snapshot","camera":"../../etc"}' },
      { name: 'an extra key', expected: 'COMMAND_INVALID', transaction: 'h5', payload: '{"transaction":"h5","command":"resume","camera":"plc","__proto__":{"x":1}}' },
    ];
    await category('MQTT', async () => {
      for (const c of commands) record('mqtt', c.name, c.expected, await answer(c.transaction, c.payload).catch((err: Error) => err.message));
      const triggers: Array<{ name: string; payload: string | Buffer }> = [
        { name: 'a trigger that is not JSON', payload: '\u0000\u0001' },
        { name: 'a trigger with a 10k part id', payload: JSON.stringify({ partId: 'p'.repeat(10_000) }) },
      ];
      for (const t of triggers) {
        const before = logLines.length;
        await plc.publishAsync('lookout/gwh/plc/trigger', t.payload, { qos: 1 });
        const line = await valueOf(() => logLines.slice(before).find((l) => l.includes('trigger ignored')), `the log line for ${t.name}`, 10_000).catch(() => undefined);
        record('mqtt', t.name, 'trigger ignored', line ? 'trigger ignored' : 'no log line');
      }
    });
    expect(app.inspector.status().cameras.every((c) => !c.paused)).toBe(true);
    expect(verdicts.some((v) => v.cameraId === 'plc')).toBe(false);
    expect(results.mqtt!.filter((o) => o.got !== o.expected)).toEqual([]);
  }, 60_000);

  it('gRPC: the model server answers every bad call with its status and keeps serving', async () => {
    const client: RawClient = rawClient(agent.address);
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'OK',
        (err: grpc.ServiceError) => grpc.status[err.code] ?? String(err.code),
      );
    const detect = (bitmap: Record<string, unknown>, model = 'm1', extra: Record<string, unknown> = {}) => code(client.call('DetectAnomalies', { modelComponent: model, bitmap, ...extra }));
    const pixels = (w: number, h: number) => Buffer.alloc(w * h * 3, 0x20);
    // Segments the model server must not write into: another user's (we run as root: chowned to nobody) and a
    // second name (hard link) for a file. Their bytes must come out unchanged.
    const shm = `/dev/shm/le-hostile-${process.pid}`;
    const segs = { theirs: `${shm}-theirs`, mine: `${shm}-mine`, alias: `${shm}-alias` };
    await writeFile(segs.theirs, Buffer.alloc(96 * 96 * 3, 7));
    await chown(segs.theirs, 65534, 65534);
    await writeFile(segs.mine, Buffer.alloc(96 * 96 * 3, 7));
    await link(segs.mine, segs.alias);
    const maskInto = (path: string) => detect({ width: 96, height: 96, byteData: pixels(96, 96) }, 'seg', { anomalyMaskParams: { sharedMemoryHandle: { name: path.slice('/dev/shm'.length), size: 96 * 96 * 3, offset: 0 } } });
    const inputs: Array<{ name: string; expected: string; call: () => Promise<string> }> = [
      { name: 'an unknown model', expected: 'NOT_FOUND', call: () => detect({ width: 96, height: 96, byteData: pixels(96, 96) }, 'nope') },
      { name: 'a 100 KiB model name', expected: 'INVALID_ARGUMENT', call: () => detect({ width: 96, height: 96, byteData: pixels(96, 96) }, 'm'.repeat(100 * 1024)) },
      { name: 'bytes that do not match the size', expected: 'INVALID_ARGUMENT', call: () => detect({ width: 96, height: 96, byteData: pixels(10, 10) }) },
      { name: 'a zero width', expected: 'INVALID_ARGUMENT', call: () => detect({ width: 0, height: 96, byteData: Buffer.alloc(0) }) },
      { name: 'a negative height', expected: 'INVALID_ARGUMENT', call: () => detect({ width: 96, height: -96, byteData: pixels(96, 96) }) },
      { name: 'a 100000² image in three bytes', expected: 'INVALID_ARGUMENT', call: () => detect({ width: 100_000, height: 100_000, byteData: Buffer.alloc(3) }) },
      { name: 'shared memory outside /dev/shm', expected: 'INVALID_ARGUMENT', call: () => detect({ width: 96, height: 96, sharedMemoryHandle: { name: '/etc/passwd', size: 96 * 96 * 3, offset: 0 } }) },
      { name: 'shared memory with ..', expected: 'INVALID_ARGUMENT', call: () => detect({ width: 96, height: 96, sharedMemoryHandle: { name: '../../etc/passwd', size: 96 * 96 * 3, offset: 0 } }) },
      { name: 'a shared memory segment that does not exist', expected: 'INVALID_ARGUMENT', call: () => detect({ width: 96, height: 96, sharedMemoryHandle: { name: '/lookout-no-such-segment', size: 96 * 96 * 3, offset: 0 } }) },
      { name: 'a mask into a segment that does not exist', expected: 'INVALID_ARGUMENT', call: () => detect({ width: 96, height: 96, byteData: pixels(96, 96) }, 'seg', { anomalyMaskParams: { sharedMemoryHandle: { name: '/lookout-no-such-mask', size: 96 * 96 * 3, offset: 0 } } }) },
      { name: 'a mask into another user\'s segment', expected: 'INVALID_ARGUMENT', call: () => maskInto(segs.theirs) },
      { name: 'a mask into a hard link to a segment', expected: 'INVALID_ARGUMENT', call: () => maskInto(segs.alias) },
      { name: 'StartModel of an unknown model', expected: 'NOT_FOUND', call: () => code(client.call('StartModel', { modelComponent: 'nope' })) },
      { name: 'DescribeModel with an empty name', expected: 'INVALID_ARGUMENT', call: () => code(client.call('DescribeModel', { modelComponent: '' })) },
    ];
    try {
      await category('gRPC', async () => {
        for (const input of inputs) record('grpc', input.name, input.expected, await input.call());
      });
      expect(await detect({ width: 96, height: 96, byteData: pixels(96, 96) })).toBe('OK');
      for (const path of [segs.theirs, segs.mine]) expect((await readFile(path)).every((b) => b === 7)).toBe(true);
    } finally {
      client.close();
      await Promise.all(Object.values(segs).map((p) => unlink(p).catch(() => undefined)));
    }
    expect(results.grpc!.filter((o) => o.got !== o.expected)).toEqual([]);
  }, 60_000);
});
