import { instantiateSimd, type SimdExports } from './simd-kernels.js';

/**
 * The built-in model's numeric kernels over one Float32 heap, in WebAssembly SIMD
 * (`simd-kernels.ts`) or, where that is unavailable, in JavaScript with the same semantics (sums in
 * double precision, so results agree to float rounding). Addresses, strides and lengths are in
 * floats; a vector is 4 floats and rows are zero-padded to whole vectors (pairs of vectors for
 * `affine`); `scan` and `sqDists` work on rows of the `vectors` a kernel set was created for. Heap
 * slot 0 is reserved (the index `scan` reports). One caller at a time.
 */
export interface Kernels {
  readonly simd: boolean;
  /** The heap, and the same memory as int32 (for offset lists); new views after `reserve` grows it. */
  readonly heap: Float32Array;
  readonly ints: Int32Array;
  /** Grows the heap to at least `floats` floats, contents kept. */
  reserve(floats: number): void;
  /**
   * Squared distances from the query at `q` to `count` rows (`stride` apart), with early exit once
   * past `best`; returns the smallest below `best`, or `best`.
   */
  scan(q: number, row: number, count: number, stride: number, best: number): number;
  /** The row (relative to `row`) of the last `scan` that lowered `best`, -1 if none did. */
  improved(): number;
  /** out[i] = squared distance from the query at `q` to row i, for `count` rows. */
  sqDists(q: number, rows: number, count: number, stride: number, out: number): void;
  /**
   * For each of `n` vectors x: out[r] = a_r · x + bias[r] for the `m` rows of the matrix at `a`,
   * written at `out` (`outStride` apart). Vector j starts at base + ints[offs + j] and is `segs`
   * runs of 8·pairs floats, `segStride` apart (a window of an image, or one contiguous row); the
   * matrix rows are those runs back to back.
   */
  affine(offs: number, n: number, base: number, segs: number, segStride: number, pairs: number, a: number, m: number, bias: number, out: number, outStride: number): void;
}

/** First heap float free for callers (slot 0 holds `scan`'s index; 4 keeps vectors aligned). */
export const HEAP_START = 4;

export type KernelChoice = 'simd' | 'js';

/**
 * Kernels with a heap of `floats` floats for rows of `vectors` (≥ 2) vectors: the SIMD ones, unless
 * `prefer` is 'js' or WebAssembly SIMD is unavailable, then the JavaScript ones.
 */
export function createKernels(floats: number, options: { vectors?: number; prefer?: KernelChoice } = {}): Kernels {
  const vectors = Math.max(2, options.vectors ?? 2);
  const simd = options.prefer === 'js' ? undefined : instantiateSimd(vectors);
  const kernels = simd ? new SimdKernels(simd) : new JsKernels(vectors);
  kernels.reserve(floats);
  return kernels;
}

class SimdKernels implements Kernels {
  readonly simd = true;
  heap: Float32Array;
  ints: Int32Array;

  constructor(private readonly e: SimdExports) {
    this.heap = new Float32Array(e.memory.buffer);
    this.ints = new Int32Array(e.memory.buffer);
  }

  reserve(floats: number): void {
    const pages = Math.ceil((floats * 4) / 65536) - this.e.memory.buffer.byteLength / 65536;
    if (pages <= 0) return;
    this.e.memory.grow(pages);
    this.heap = new Float32Array(this.e.memory.buffer);
    this.ints = new Int32Array(this.e.memory.buffer);
  }

  scan(q: number, row: number, count: number, stride: number, best: number): number {
    return this.e.scan(q * 4, row * 4, count, stride * 4, best);
  }

  improved(): number {
    return this.ints[0]!;
  }

  sqDists(q: number, rows: number, count: number, stride: number, out: number): void {
    this.e.sqDists(q * 4, rows * 4, count, stride * 4, out * 4);
  }

  affine(offs: number, n: number, base: number, segs: number, segStride: number, pairs: number, a: number, m: number, bias: number, out: number, outStride: number): void {
    this.e.affine(offs * 4, n, base * 4, segs, segStride * 4, pairs, a * 4, m, bias * 4, out * 4, outStride * 4);
  }
}

class JsKernels implements Kernels {
  readonly simd = false;
  heap = new Float32Array(0);
  ints = new Int32Array(0);
  private last = -1;

  constructor(private readonly vectors: number) {}

  reserve(floats: number): void {
    if (floats <= this.heap.length) return;
    const grown = new Float32Array(floats);
    grown.set(this.heap);
    this.heap = grown;
    this.ints = new Int32Array(grown.buffer);
  }

  scan(q: number, row: number, count: number, stride: number, best: number): number {
    const h = this.heap;
    const end = this.vectors * 4;
    this.last = -1;
    for (let i = 0; i < count; i++, row += stride) {
      let s = 0;
      let d = 0;
      for (; d < end; d += 4) {
        const x0 = h[row + d]! - h[q + d]!;
        const x1 = h[row + d + 1]! - h[q + d + 1]!;
        const x2 = h[row + d + 2]! - h[q + d + 2]!;
        const x3 = h[row + d + 3]! - h[q + d + 3]!;
        s += x0 * x0 + x1 * x1 + x2 * x2 + x3 * x3;
        if (s > best) break;
      }
      if (d >= end && s < best) {
        best = s;
        this.last = i;
      }
    }
    return best;
  }

  improved(): number {
    return this.last;
  }

  sqDists(q: number, rows: number, count: number, stride: number, out: number): void {
    const h = this.heap;
    const end = this.vectors * 4;
    for (let i = 0; i < count; i++, rows += stride) {
      let s = 0;
      for (let d = 0; d < end; d++) {
        const x = h[rows + d]! - h[q + d]!;
        s += x * x;
      }
      h[out + i] = s;
    }
  }

  affine(offs: number, n: number, base: number, segs: number, segStride: number, pairs: number, a: number, m: number, bias: number, out: number, outStride: number): void {
    const h = this.heap;
    const len = pairs * 8;
    for (let j = 0; j < n; j++, out += outStride) {
      const x = base + this.ints[offs + j]!;
      for (let r = 0, ar = a; r < m; r++) {
        let s0 = 0;
        let s1 = 0;
        for (let g = 0, xs = x; g < segs; g++, xs += segStride, ar += len) {
          for (let i = 0; i < len; i += 2) {
            s0 += h[xs + i]! * h[ar + i]!;
            s1 += h[xs + i + 1]! * h[ar + i + 1]!;
          }
        }
        h[out + r] = s0 + s1 + h[bias + r]!;
      }
    }
  }
}
