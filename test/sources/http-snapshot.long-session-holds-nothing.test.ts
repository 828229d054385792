import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SnapshotFetcher } from '../../src/sources/http/snapshot-fetcher.js';
import { makeJpeg } from '../helpers/images.js';
import { HttpCamera } from '../peers/http-camera.js';

/**
 * A camera session lives for days and fetches several snapshots a second under one session signal. Nothing
 * a request links to that signal may outlive the request: on Node 20, AbortSignal.any([session, deadline])
 * left one WeakRef with the session per request (~19 a second with 4 cameras at 5 fps, found by the soak
 * bench's heap snapshots).
 */

let camera: HttpCamera;

/**
 * What the session signal holds for signals composed from it: Node 20 keeps them in an internal Set of
 * WeakRefs (`kDependantSignals`) that only grows while the session lives. 0 when there is no such Set.
 */
function dependants(signal: AbortSignal): number {
  const key = Object.getOwnPropertySymbols(signal).find((s) => s.description === 'kDependantSignals');
  const held = key ? (signal as unknown as Record<symbol, { size?: unknown } | undefined>)[key] : undefined;
  return typeof held?.size === 'number' ? held.size : 0; // a Set of Node's own realm: not instanceof ours
}

beforeAll(async () => {
  camera = new HttpCamera(await makeJpeg({ width: 64, height: 48 }));
  await camera.start();
});
afterAll(async () => {
  await camera.stop();
});

describe('snapshot requests in a long camera session', () => {
  it('leave no weak references behind on the session signal', async () => {
    const session = new AbortController();
    const fetcher = new SnapshotFetcher({ url: `${camera.url}/snapshot.jpg` }, { timeoutMs: 5_000, maxBytes: 1 << 20 });
    for (let i = 0; i < 300; i++) await fetcher.fetch(session.signal);
    expect(dependants(session.signal)).toBe(0);
    expect(session.signal.aborted).toBe(false);
  });

  it('still ends a request when the session aborts', async () => {
    const session = new AbortController();
    const fetcher = new SnapshotFetcher({ url: `${camera.url}/slow` }, { timeoutMs: 5_000, maxBytes: 1 << 20 });
    const pending = fetcher.fetch(session.signal);
    session.abort();
    await expect(pending).rejects.toMatchObject({ code: 'SOURCE_UNAVAILABLE' });
  });
});
