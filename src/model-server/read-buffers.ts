/**
 * Reusable buffers for the shared-memory input bitmap, placed where the kernel copies into them fast.
 *
 * A fresh multi-megabyte allocation per call costs page faults that are slower than the copy itself, so
 * buffers are kept. And where a buffer starts matters: the kernel's copy from the page cache into user
 * memory (read/pread on tmpfs) is several times slower when the destination sits 8..31 bytes past the
 * source's position within a page (figures in BENCHMARKS.md, design notes). A large Buffer from malloc
 * may start 16 bytes into a page (the glibc chunk header of an mmap'ed chunk) while a segment is read
 * from offset 0, the slow case, depending on the allocator's history. The memory of a WebAssembly.Memory
 * starts on a page boundary: a buffer is a view into one, at the same position within a page as the
 * bytes it receives (distance 0, the fast case).
 */

const PAGE = 4096;
const WASM_PAGE = 65536;
/**
 * Buffers bigger than this are not kept: wasm memory is never given back while referenced, so a burst of
 * 4096x4096 images (48 MiB each) would pin that much for the process's life. A bitmap of 2560x2048 and
 * less fits; a bigger one pays a fresh allocation, small next to the inference on it.
 */
export const MAX_KEPT_BYTES = 16 * 1024 * 1024;

/** The one WebAssembly API member used (the project's TypeScript libs do not declare it). */
interface WasmMemoryApi {
  Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer };
}
const wasm = (globalThis as { WebAssembly?: WasmMemoryApi }).WebAssembly;

/** Page-aligned memory of at least `bytes`; plain (unaligned) memory where wasm memory is unavailable. */
function alignedArrayBuffer(bytes: number): ArrayBuffer {
  try {
    if (wasm) return new wasm.Memory({ initial: Math.ceil(bytes / WASM_PAGE) }).buffer;
  } catch {
    // no address space for wasm memory (ulimit -v): still correct, only the copy may be slower
  }
  return Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer;
}

/** At most `keep` buffers of up to MAX_KEPT_BYTES are kept (the biggest ones); a buffer is handed out to one call at a time. */
export class ReadBuffers {
  private readonly free: ArrayBuffer[] = [];
  constructor(private readonly keep = 4) {}

  /** `size` bytes that will receive data read from `sourceOffset` in a file. */
  take(size: number, sourceOffset = 0): Buffer {
    const need = size + PAGE;
    const i = this.free.findIndex((b) => b.byteLength >= need);
    const memory = i >= 0 ? (this.free.splice(i, 1)[0] as ArrayBuffer) : alignedArrayBuffer(need);
    return Buffer.from(memory, sourceOffset % PAGE, size);
  }

  give(buf: Buffer): void {
    const whole = buf.buffer as ArrayBuffer;
    if (whole.byteLength > MAX_KEPT_BYTES) return; // left to the garbage collector
    if (this.free.length < this.keep) this.free.push(whole);
    else {
      // keep the biggest ones
      this.free.sort((a, b) => a.byteLength - b.byteLength);
      if ((this.free[0] as ArrayBuffer).byteLength < whole.byteLength) this.free[0] = whole;
    }
  }
}
