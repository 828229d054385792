import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { evidenceSchema, type EvidenceConfig } from '../../src/config/slices/evidence.js';
import type { RgbImage } from '../../src/core/image.js';
import { createLogger, type Logger } from '../../src/core/log.js';
import type { AnomalyClass } from '../../src/core/model.js';
import type { Verdict } from '../../src/core/verdict.js';
import { createEvidenceStore } from '../../src/evidence/adapters/create-evidence-store.js';
import type { EvidenceStore } from '../../src/evidence/evidence-store.js';
import type { Mount } from '../../src/status/router.js';

/** Shared by the feedback-loop tests: real temp dirs, real stores, real HTTP servers. */

export const silentLog = (): Logger => createLogger('silent');

/** A logger whose lines the test can read. */
export function capturingLog(): { log: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { log: createLogger('debug', sink), lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

export async function tempDir(prefix: string): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `le-${prefix}-`));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

export function evidenceConfig(dir: string, over: Record<string, unknown> = {}): EvidenceConfig {
  return evidenceSchema.parse({ dir, ...over });
}

export function makeStore(config: EvidenceConfig, opts: { now?: () => number; log?: Logger } = {}): EvidenceStore {
  return createEvidenceStore({ config, log: opts.log ?? silentLog(), modelVersionOf: () => '1.0.0', ...(opts.now ? { now: opts.now } : {}) });
}

export const CRACK = { name: 'crack', hexColor: '#23A436' } as const;
export const RED = { name: 'blob', hexColor: '#FF0000' } as const;

/** A grey frame with a little noise (so JPEG sizes differ) and, optionally, a coloured square. */
export function frame(width: number, height: number, opts: { seed?: number; blob?: { x: number; y: number; size: number; rgb: [number, number, number] } } = {}): RgbImage {
  const pixels = new Uint8Array(width * height * 3);
  let s = (opts.seed ?? 1) >>> 0;
  for (let i = 0; i < pixels.length; i += 3) {
    s = (s * 1664525 + 1013904223) >>> 0;
    const v = 110 + (s >>> 28);
    pixels[i] = v;
    pixels[i + 1] = v;
    pixels[i + 2] = v;
  }
  const b = opts.blob;
  if (b) {
    for (let y = b.y; y < b.y + b.size; y++) {
      for (let x = b.x; x < b.x + b.size; x++) pixels.set(b.rgb, (y * width + x) * 3);
    }
  }
  return { width, height, pixels };
}

/** The mask a segmentation model would return for `frame(..., {blob})`: the square in the class colour, black elsewhere. */
export function squareMask(width: number, height: number, sq: { x: number; y: number; size: number }, hex: string): RgbImage {
  const pixels = new Uint8Array(width * height * 3);
  const rgb = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  for (let y = sq.y; y < sq.y + sq.size; y++) for (let x = sq.x; x < sq.x + sq.size; x++) pixels.set(rgb, (y * width + x) * 3);
  return { width, height, pixels };
}

let seq = 0;
export function verdict(over: Partial<Verdict> & { outcome: Verdict['outcome'] }): Verdict {
  seq += 1;
  const t = over.decidedAt ?? Date.UTC(2026, 10, 20, 12, 0, 0) + seq;
  const anomalous = over.outcome === 'reject';
  return {
    id: over.id ?? `cam1-${t}-${seq}`,
    frameId: `f-${seq}`,
    cameraId: 'cam1',
    modelComponent: 'cookies-model',
    basis: 'model',
    isAnomalous: anomalous,
    confidence: 0.95,
    anomalyScore: anomalous ? 0.9 : 0.1,
    anomalyThreshold: 0.5,
    anomalies: [] as AnomalyClass[],
    capturedAt: t - 5,
    decidedAt: t,
    timings: {},
    ...over,
  };
}

/** A real HTTP server on port 0 that mounts route handlers the way the status server does. */
export async function serveRoutes(...handlers: Mount[]): Promise<{ base: string; server: Server; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    void (async () => {
      for (const h of handlers) if (await h(req, res, url)) return;
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not mine');
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Polls until `check` returns a value (not undefined/null/false) or the deadline passes. */
export async function until<T>(check: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
