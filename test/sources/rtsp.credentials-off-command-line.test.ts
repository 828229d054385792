import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../src/core/frame.js';
import { cameraSchema } from '../../src/config/slices/sources.js';
import { createFrameSource } from '../../src/sources/create-frame-source.js';
import { startAuthRelay } from '../../src/sources/rtsp/rtsp-auth-relay.js';
import { RtspServer } from '../peers/rtsp-server.js';
import { memoryLogger, waitFor } from './kit.js';

/**
 * Issue 17, item 8: another local user reads any process's /proc/<pid>/cmdline, so the camera's
 * credentials must not be on ffmpeg's. The peer asks for Basic auth, as gst-rtsp-server does.
 */

const PASSWORD = 'hunter2-secret';

/** The command lines of our ffmpeg children. */
function ffmpegCommandLines(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      if (m && m[1] === 'ffmpeg' && Number(m[2]) === process.pid) out.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' '));
    } catch {
      /* gone */
    }
  }
  return out;
}

const camera = new RtspServer({ width: 160, height: 120, fps: 10, username: 'viewer', password: PASSWORD });
const digestCamera = new RtspServer({ width: 160, height: 120, fps: 10, username: 'viewer', password: PASSWORD, authScheme: 'digest' });
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  await Promise.all([camera.start(), digestCamera.start()]);
});
afterAll(async () => {
  await Promise.all([camera.kill(), digestCamera.kill()]);
});
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

function start(url: string, auth?: { username: string; password: string }): { frames: Frame[]; lines: string[]; health: () => { lastError?: unknown } } {
  const { log, lines } = memoryLogger('debug');
  const cam = cameraSchema.parse({ id: 'line3', source: { type: 'rtsp', url, fps: 5, stallTimeoutMs: 3_000, ...(auth ? { auth } : {}) }, backoff: { initialMs: 100, maxMs: 400 } });
  const frames: Frame[] = [];
  const source = createFrameSource(cam, { onFrame: (f) => void frames.push(f), freeRunning: true, log });
  cleanups.push(() => source.stop());
  void source.start();
  return { frames, lines, health: () => source.health() };
}

describe('rtsp credentials', () => {
  it.each([
    ['from source.auth', () => start(camera.url, { username: 'viewer', password: PASSWORD })],
    ['from the URL', () => start(camera.url.replace('rtsp://', `rtsp://viewer:${PASSWORD}@`))],
    ['for a camera that asks for Digest', () => start(digestCamera.url, { username: 'viewer', password: PASSWORD })],
  ])('%s: frames flow and ffmpeg\'s command line holds neither user nor password', async (_name, run) => {
    const { frames, lines } = run();
    await waitFor(() => frames.length >= 2, 'frames through an authenticated session', 20_000);
    const commandLines = ffmpegCommandLines();
    expect(commandLines.length).toBeGreaterThanOrEqual(1);
    for (const cmd of commandLines) {
      expect(cmd).toContain('rtsp://');
      expect(cmd).not.toContain(PASSWORD);
      expect(cmd).not.toContain('viewer');
    }
    for (const line of lines) expect(line).not.toContain(PASSWORD);
    expect(frames[0]?.origin).not.toContain(PASSWORD);
  });

  it.each([
    ['Basic', () => camera.url],
    ['Digest', () => digestCamera.url],
  ])('a wrong password (%s) is SOURCE_AUTH_FAILED, and no frame arrives', async (_name, url) => {
    const { frames, health } = start(url(), { username: 'viewer', password: 'wrong-secret' });
    await waitFor(() => health().lastError, 'an error', 20_000);
    expect(JSON.stringify(health())).toContain('SOURCE_AUTH_FAILED');
    expect(frames).toHaveLength(0);
  });
});

/** Sends one DESCRIBE to `url` and returns whatever comes back before the connection closes (or 3 s). */
const DESCRIBE_SCRIPT = `
const { connect } = require('node:net');
const u = new URL(process.argv[1]);
const s = connect(Number(u.port), u.hostname, () => s.write('DESCRIBE ' + u.href + ' RTSP/1.0\\r\\nCSeq: 2\\r\\nAccept: application/sdp\\r\\n\\r\\n'));
let got = '';
s.on('data', (c) => { got += c; if (got.includes('\\r\\n\\r\\n')) { process.stdout.write(got.split('\\r\\n')[0]); process.exit(0); } });
s.on('close', () => { process.stdout.write(got || 'closed'); process.exit(0); });
s.on('error', () => {});
setTimeout(() => { process.stdout.write(got || 'timeout'); process.exit(0); }, 3000);
`;

function describeAs(url: string, uid?: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', DESCRIBE_SCRIPT, url], { stdio: ['ignore', 'pipe', 'pipe'], ...(uid !== undefined ? { uid, gid: uid } : {}) });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
}

describe('rtsp auth relay', () => {
  it('answers the camera\'s Digest challenge for our own user only: another local user gets the connection closed', async () => {
    const relay = await startAuthRelay(digestCamera.url, { username: 'viewer', password: PASSWORD });
    cleanups.push(async () => relay?.close());
    expect(relay?.url).toMatch(/^rtsp:\/\/127\.0\.0\.1:\d+\/cam$/);
    expect(await describeAs(relay!.url)).toBe('RTSP/1.0 200 OK');
    if (process.getuid?.() !== 0) return; // switching to another user needs root
    expect(await describeAs(relay!.url, 65534)).toBe('closed');
  });
});
