import { closeSync, constants, fstatSync, openSync, read, readSync, write, writeSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LookoutError } from '../core/errors.js';
import type { WireSharedMemoryHandle } from '../edge-agent/edge-agent-wire.js';
import { SHM_NAME } from '../edge-agent/shm-names.js';

/**
 * The server's side of the shared-memory transport. Handles come from clients and are untrusted: the
 * name must be a plain shm_open name (optional leading slash, then one path component, no dots-only
 * names), the segment must be an existing regular file under the shm directory (no symlinks followed), and
 * offset + size must lie inside it. Anything else is INFERENCE_INVALID_ARGUMENT (INVALID_ARGUMENT).
 *
 * Whose segment it is: Node cannot ask the socket who the caller is (no SO_PEERCRED), so the socket's
 * permissions decide who may call at all, and a segment is used only when its owner is one of `owners`
 * (this server's own uid and modelServer.shmOwners) and it has exactly one link (a hard link to another
 * program's file is refused). Checked on the opened descriptor, before a byte is read or written.
 * INVALID_ARGUMENT, not PERMISSION_DENIED: the Edge Agent protocol documents no other status for a bad handle.
 */

/** The uids whose segments this server reads and writes. */
export type ShmOwners = ReadonlySet<number>;

export interface CheckedHandle {
  readonly name: string;
  readonly path: string;
  readonly offset: number;
  readonly size: number;
}

function invalid(message: string, cause?: unknown): LookoutError {
  return new LookoutError('INFERENCE_INVALID_ARGUMENT', message, cause === undefined ? {} : { cause });
}

/** Syntax only (no I/O): the name, and offset/size as safe non-negative integers. */
export function checkHandle(handle: WireSharedMemoryHandle, shmDir: string, what: string): CheckedHandle {
  const match = SHM_NAME.exec(handle.name ?? '');
  if (!match?.[1]) throw invalid(`${what}: shared memory name ${JSON.stringify(handle.name)} is not a plain shm_open name`);
  const { offset, size } = handle;
  if (!Number.isSafeInteger(offset) || offset < 0) throw invalid(`${what}: bad shared memory offset`);
  if (!Number.isSafeInteger(size) || size <= 0) throw invalid(`${what}: bad shared memory size`);
  return { name: handle.name, path: join(shmDir, match[1]), offset, size };
}

/** An open segment: a plain fd (open/fstat/close are synchronous: microseconds, no thread-pool hop). */
export interface OpenSegment {
  readonly fd: number;
  close(): void;
}

function openSegment(h: CheckedHandle, owners: ShmOwners, flags: number, what: string): OpenSegment {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted under the name must not block us; it is then refused as not a file.
    fd = openSync(h.path, flags | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw invalid(`${what}: cannot open shared memory segment ${h.name} (${code ?? 'error'})`, err);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw invalid(`${what}: ${h.name} is not a shared memory segment`);
    if (!owners.has(st.uid)) throw invalid(`${what}: shared memory segment ${h.name} belongs to uid ${st.uid}, neither this server's user nor one of modelServer.shmOwners; refusing to use it`);
    if (st.nlink !== 1) throw invalid(`${what}: shared memory segment ${h.name} has ${st.nlink} links (a hard link to another file); refusing to use it`);
    if (h.offset + h.size > st.size) throw invalid(`${what}: offset ${h.offset} + size ${h.size} lies beyond segment ${h.name} (${st.size} bytes)`);
    let closed = false;
    return {
      fd,
      close: () => {
        if (!closed) closeSync(fd);
        closed = true;
      },
    };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** Copies up to this size run synchronously (see the client's shm-pool for the reasoning). */
const SYNC_IO_MAX_BYTES = 8 * 1024 * 1024;
const readAt = promisify(read);
const writeAt = promisify(write);

/** Reads the handle's byte range (the input bitmap) into `into` (exactly h.size bytes) or a new buffer. */
export async function readSegment(h: CheckedHandle, owners: ShmOwners, what: string, into?: Buffer): Promise<Buffer> {
  const seg = openSegment(h, owners, constants.O_RDONLY, what);
  try {
    const out = into ?? Buffer.allocUnsafeSlow(h.size);
    const sync = h.size <= SYNC_IO_MAX_BYTES;
    let done = 0;
    while (done < h.size) {
      const bytesRead = sync ? readSync(seg.fd, out, done, h.size - done, h.offset + done) : (await readAt(seg.fd, out, done, h.size - done, h.offset + done)).bytesRead;
      if (bytesRead === 0) throw invalid(`${what}: segment ${h.name} shrank while reading`);
      done += bytesRead;
    }
    return out;
  } finally {
    seg.close();
  }
}

/** Opens the mask segment for writing; fails early (before inference) when it is unusable. */
export function openMaskSegment(h: CheckedHandle, owners: ShmOwners, what: string): OpenSegment {
  return openSegment(h, owners, constants.O_WRONLY, what);
}

export async function writeSegment(seg: OpenSegment, h: CheckedHandle, bytes: Uint8Array): Promise<void> {
  const sync = bytes.length <= SYNC_IO_MAX_BYTES;
  let done = 0;
  while (done < bytes.length) {
    const bytesWritten = sync
      ? writeSync(seg.fd, bytes, done, bytes.length - done, h.offset + done)
      : (await writeAt(seg.fd, bytes, done, bytes.length - done, h.offset + done)).bytesWritten;
    done += bytesWritten;
  }
}
