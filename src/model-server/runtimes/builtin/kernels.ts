import { instantiateSimd, type SimdExports } from './simd-kernels.js';

/**
 * The built-in model's numeric kernels over one Float32 heap, in WebAssembly SIMD
 * (`simd-kernels.ts`) or, where that is unavailable, in JavaScript with the same semantics (sums in
 * double precision, so results agree to float rounding). Addresses, strides and lengths are in
 * floats; a vector is 4 floats and rows are zero-padded to whole vectors (pairs of vectors for
 * `affine`). `scan` and `rank` work on vectors of the `dim` a kernel set was created for:
 * queries and `rank` rows as rows of ⌈dim/4⌉ vectors, `scan` on blocks of 4 rows stored
 * dimension-major (`block[4·d + j]` is row j's dimension d; 4·dim floats a block). Heap slot 0 is
 * reserved (the row `scan` reports). One caller at a time.
 */
export interface Kernels {
  readonly simd: boolean;
  /** The heap, and the same memory as int32 (for offset lists); new views after `reserve` grows it. */
  readonly heap: Float32Array;
  readonly ints: Int32Array;
  /** Grows the heap to at least `floats` floats, contents kept. */
  reserve(floats: number): void;
  /**
   * Squared distances from the query at `q` to the rows of `count` blocks from `block`, with early
   * exit once past `best`; returns the smallest below `best`, or `best`.
   */
  scan(q: number, block: number, count: number, best: number): number;
  /** The row (4·block + lane, from `block`) of the last `scan` that lowered `best`, -1 if none did. */
  improved(): number;
  /**
   * The `k` of `count` rows (`stride` apart) nearest to the query at `q`, nearest first (ties: the
   * earlier row): their squared distances at heap[out…out+k), their indices at ints[out+k…out+2k).
   */
  rank(q: number, rows: number, count: number, stride: number, k: number, out: number): void;
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
 * Kernels with a heap of `floats` floats for vectors of `dim` dimensions: the SIMD ones, unless
 * `prefer` is 'js' or WebAssembly SIMD is unavailable, then the JavaScript ones.
 */
export function createKernels(floats: number, options: { dim?: number; prefer?: KernelChoice } = {}): Kernels {
  const dim = Math.max(1, options.dim ?? 1);
  const simd = options.prefer === 'js' ? undefined : instantiateSimd(dim);
  const kernels = simd ? new SimdKernels(simd) : new JsKernels(dim);
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

  scan(q: number, block: number, count: number, best: number): number {
    return this.e.scan(q * 4, block * 4, count, best);
  }

  improved(): number {
    return this.ints[0]!;
  }

  rank(q: number, rows: number, count: number, stride: number, k: number, out: number): void {
    this.e.rank(q * 4, rows * 4, count, stride * 4, k, out * 4);
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

  constructor(private readonly dim: number) {}

  reserve(floats: number): void {
    if (floats <= this.heap.length) return;
    const grown = new Float32Array(floats);
    grown.set(this.heap);
    this.heap = grown;
    this.ints = new Int32Array(grown.buffer);
  }

  scan(q: number, block: number, count: number, best: number): number {
    const { heap: h, dim } = this;
    this.last = -1;
    for (let i = 0; i < count; i++, block += 4 * dim) {
      for (let j = 0; j < 4; j++) {
        let s = 0;
        let d = 0;
        for (; d < dim; d++) {
          const x = h[block + 4 * d + j]! - h[q + d]!;
          s += x * x;
          if ((d & 3) === 3 && s > best) break;
        }
        if (d === dim && s < best) {
          best = s;
          this.last = 4 * i + j;
        }
      }
    }
    return best;
  }

  improved(): number {
    return this.last;
  }

  rank(q: number, rows: number, count: number, stride: number, k: number, out: number): void {
    const { heap: h, ints } = this;
    const end = Math.ceil(this.dim / 4) * 4;
    let filled = 0;
    for (let c = 0; c < count; c++, rows += stride) {
      let s = 0;
      for (let d = 0; d < end; d++) {
        const x = h[rows + d]! - h[q + d]!;
        s += x * x;
      }
      if (filled === k && !(s < h[out + k - 1]!)) continue;
      let j = filled < k ? filled++ : k - 1;
      for (; j > 0 && h[out + j - 1]! > s; j--) {
        h[out + j] = h[out + j - 1]!;
        ints[out + k + j] = ints[out + k + j - 1]!;
      }
      h[out + j] = s;
      ints[out + k + j] = c;
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
