import { describe, expect, it } from 'vitest';
import { MAX_KEPT_BYTES, ReadBuffers } from '../../src/model-server/read-buffers.js';

/** The server's shared-memory read buffers: reused, and placed at the source's position within a page. */

describe('ReadBuffers', () => {
  it('hands out exactly `size` bytes at the same position within a page as the source offset', () => {
    const buffers = new ReadBuffers(2);
    for (const offset of [0, 16, 100, 4096 + 24, 8192]) {
      const buf = buffers.take(512 * 384 * 3, offset);
      expect(buf.length).toBe(512 * 384 * 3);
      expect(buf.byteOffset).toBe(offset % 4096);
      buffers.give(buf);
    }
  });

  it('reuses a returned buffer for the next call of the same or a smaller size, and keeps the biggest ones', () => {
    const buffers = new ReadBuffers(1);
    const first = buffers.take(64 * 64 * 3);
    buffers.give(first);
    const again = buffers.take(32 * 32 * 3, 8);
    expect(again.buffer).toBe(first.buffer);
    const big = buffers.take(1920 * 1080 * 3);
    expect(big.buffer).not.toBe(first.buffer);
    buffers.give(again);
    buffers.give(big);
    expect(buffers.take(1920 * 1080 * 3).buffer).toBe(big.buffer);
  });

  it('does not keep a buffer over MAX_KEPT_BYTES (a 4096x4096 image), so a burst of huge images does not pin their memory', () => {
    const buffers = new ReadBuffers(4);
    const huge = buffers.take(4096 * 4096 * 3);
    expect(huge.buffer.byteLength).toBeGreaterThan(MAX_KEPT_BYTES);
    buffers.give(huge);
    // Identity as a boolean: a failing toBe would print tens of megabytes.
    expect(buffers.take(4096 * 4096 * 3).buffer === huge.buffer).toBe(false);
    const largestKept = buffers.take(2560 * 2048 * 3);
    buffers.give(largestKept);
    expect(buffers.take(2560 * 2048 * 3).buffer === largestKept.buffer).toBe(true);
  });
});
