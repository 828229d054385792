import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { LookoutError } from '../core/errors.js';
import type { WireSharedMemoryHandle } from '../inference/edge-agent-wire.js';

/**
 * The server's side of the shared-memory transport. Handles come from clients and are untrusted: the
 * name must be a plain shm_open name (optional leading slash, then one path component, no dots-only
 * names), the segment must be an existing regular file under the shm directory (no symlinks followed), and
 * offset + size must lie inside it. Anything else is INFERENCE_INVALID_ARGUMENT (INVALID_ARGUMENT).
 */

const SHM_NAME = /^\/?([A-Za-z0-9_][A-Za-z0-9._-]{0,254})$/;

export const DEFAULT_SHM_DIR = '/dev/shm';

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

async function openSegment(h: CheckedHandle, flags: number, what: string): Promise<FileHandle> {
  let file: FileHandle;
  try {
    file = await open(h.path, flags | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw invalid(`${what}: cannot open shared memory segment ${h.name} (${code ?? 'error'})`, err);
  }
  try {
    const st = await file.stat();
    if (!st.isFile()) throw invalid(`${what}: ${h.name} is not a shared memory segment`);
    if (h.offset + h.size > st.size) throw invalid(`${what}: offset ${h.offset} + size ${h.size} lies beyond segment ${h.name} (${st.size} bytes)`);
    return file;
  } catch (err) {
    await file.close();
    throw err;
  }
}

/** Reads the handle's byte range (the input bitmap). */
export async function readSegment(h: CheckedHandle, what: string): Promise<Buffer> {
  const file = await openSegment(h, constants.O_RDONLY, what);
  try {
    const out = Buffer.allocUnsafe(h.size);
    let done = 0;
    while (done < h.size) {
      const { bytesRead } = await file.read(out, done, h.size - done, h.offset + done);
      if (bytesRead === 0) throw invalid(`${what}: segment ${h.name} shrank while reading`);
      done += bytesRead;
    }
    return out;
  } finally {
    await file.close();
  }
}

/** Opens the mask segment for writing; fails early (before inference) when it is unusable. */
export async function openMaskSegment(h: CheckedHandle, what: string): Promise<FileHandle> {
  return openSegment(h, constants.O_WRONLY, what);
}

export async function writeSegment(file: FileHandle, h: CheckedHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await file.write(bytes, done, bytes.length - done, h.offset + done);
    done += bytesWritten;
  }
}
