import { LookoutError } from '../../core/errors.js';

/** A frame record from the worker; `pixels` is empty when the camera's buffer was not complete. */
export interface WorkerFrame {
  readonly kind: 'frame';
  /** Aravis's buffer status: 0 success, else incomplete (missing packets, timeout, size mismatch…). */
  readonly status: number;
  readonly width: number;
  readonly height: number;
  /** PFNC pixel format code. */
  readonly pixelFormat: number;
  /** The camera's frame (block) id. */
  readonly frameId: number;
  readonly timestampNs: bigint;
  readonly pixels: Buffer;
}

export interface WorkerMessage {
  readonly kind: 'message';
  readonly body: { readonly type: string; readonly [key: string]: unknown };
}

export type WorkerRecord = WorkerFrame | WorkerMessage;

export const HEADER_BYTES = 40;
const MAGIC = 0x4347_4b4c; // 'LKGC' read little-endian
const KIND_FRAME = 1;
const KIND_MESSAGE = 2;
const MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * Splits the worker's stdout (workers/arv-worker.py documents the format) into records. A frame
 * larger than `maxFrameBytes`, an unknown kind or a bad magic is SOURCE_PROTOCOL: the stream cannot
 * be trusted past it.
 */
export class WorkerRecordParser {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private header: Buffer | undefined;
  private need = HEADER_BYTES;

  constructor(private readonly maxFrameBytes: number) {}

  push(chunk: Buffer): WorkerRecord[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const out: WorkerRecord[] = [];
    while (this.pendingBytes >= this.need) {
      const bytes = this.take(this.need);
      if (!this.header) {
        this.header = bytes;
        this.need = this.readHeader(bytes);
        if (this.need > 0) continue;
      }
      out.push(this.record(this.header, this.need > 0 ? bytes : Buffer.alloc(0)));
      this.header = undefined;
      this.need = HEADER_BYTES;
    }
    return out;
  }

  /** Checks a header; returns the payload length. */
  private readHeader(h: Buffer): number {
    if (h.readUInt32LE(0) !== MAGIC) throw new LookoutError('SOURCE_PROTOCOL', 'the GenICam worker sent a malformed record');
    const kind = h.readUInt8(4);
    const length = h.readUInt32LE(36);
    if (kind === KIND_MESSAGE && length > MAX_MESSAGE_BYTES) throw new LookoutError('SOURCE_PROTOCOL', `GenICam worker message of ${length} bytes`);
    if (kind === KIND_FRAME && length > this.maxFrameBytes) {
      throw new LookoutError('SOURCE_PROTOCOL', `GenICam frame of ${length} bytes, more than ${this.maxFrameBytes}`);
    }
    if (kind !== KIND_FRAME && kind !== KIND_MESSAGE) throw new LookoutError('SOURCE_PROTOCOL', `unknown GenICam worker record kind ${kind}`);
    return length;
  }

  private record(h: Buffer, payload: Buffer): WorkerRecord {
    if (h.readUInt8(4) === KIND_MESSAGE) {
      let body: unknown;
      try {
        body = JSON.parse(payload.toString('utf8'));
      } catch {
        throw new LookoutError('SOURCE_PROTOCOL', 'the GenICam worker sent a message that is not JSON');
      }
      if (typeof body !== 'object' || body === null || typeof (body as { type?: unknown }).type !== 'string') {
        throw new LookoutError('SOURCE_PROTOCOL', 'the GenICam worker sent a message without a type');
      }
      return { kind: 'message', body: body as WorkerMessage['body'] };
    }
    return {
      kind: 'frame',
      status: h.readUInt16LE(6),
      width: h.readUInt32LE(8),
      height: h.readUInt32LE(12),
      pixelFormat: h.readUInt32LE(16),
      frameId: Number(h.readBigUInt64LE(20)),
      timestampNs: h.readBigUInt64LE(28),
      pixels: payload,
    };
  }

  /** The next `n` bytes of what was pushed, copied only when they span chunks. */
  private take(n: number): Buffer {
    const first = this.pending[0];
    if (n === 0) return Buffer.alloc(0);
    let out: Buffer;
    if (first && first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.pending.shift();
      else this.pending[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const head = this.pending[0] as Buffer;
        const k = Math.min(head.length, n - filled);
        head.copy(out, filled, 0, k);
        filled += k;
        if (k === head.length) this.pending.shift();
        else this.pending[0] = head.subarray(k);
      }
    }
    this.pendingBytes -= n;
    return out;
  }
}
