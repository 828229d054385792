import { describe, expect, it } from 'vitest';
import { writeRow } from '../../../src/model-server/runtimes/builtin/bank-blocks.js';
import { createKernels, HEAP_START, type Kernels } from '../../../src/model-server/runtimes/builtin/kernels.js';
import { mulberry } from '../../../src/model-server/train/coreset.js';

/** Both kernel sets with the same random heap contents (rows zero-padded beyond `dim`). */
function pair(floats: number, seed: number, dim = 1): [Kernels, Kernels] {
  const simd = createKernels(floats, { dim, prefer: 'simd' });
  const js = createKernels(floats, { dim, prefer: 'js' });
  expect(simd.simd).toBe(true);
  const r = mulberry(seed);
  for (let i = HEAP_START; i < floats; i++) simd.heap[i] = js.heap[i] = r() * 4 - 2;
  return [simd, js];
}

const close = (got: number, want: number): void => expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want)));

/** The WebAssembly SIMD kernels and their JavaScript fallback agree to float rounding. */
describe('built-in model kernels (SIMD against JavaScript)', () => {
  for (const m of [10, 7]) it(`affine maps: windows of an image (listed by offset) through a matrix of ${m} rows plus bias`, () => {
    const [segs, pairs, n, span] = [3, 2, 37, 100];
    const len = segs * pairs * 8;
    const [image, a, bias, offs] = [HEAP_START, HEAP_START + 40 * span, HEAP_START + 40 * span + m * len, HEAP_START + 40 * span + (m + 1) * len];
    const out = offs + n;
    const kernels = pair(out + n * 12, 1);
    const r = mulberry(11);
    const at = Array.from({ length: n }, () => Math.floor(r() * 30) * span + Math.floor(r() * (span - pairs * 8)));
    for (const k of kernels) {
      at.forEach((o, j) => (k.ints[offs + j] = o));
      k.affine(offs, n, image, segs, span, pairs, a, m, bias, out, 12);
    }
    const [simd, js] = kernels.map((k) => k.heap);
    for (let j = 0; j < n; j++) {
      for (let row = 0; row < 12; row++) {
        if (row < m) {
          let want = simd![bias + row]!;
          for (let g = 0; g < segs; g++) for (let i = 0; i < pairs * 8; i++) want += simd![image + at[j]! + g * span + i]! * simd![a + row * len + g * pairs * 8 + i]!;
          close(simd![out + j * 12 + row]!, want);
        }
        close(simd![out + j * 12 + row]!, js![out + j * 12 + row]!); // rows beyond m untouched by both
      }
    }
  });

  for (const dim of [1, 6, 13, 50]) it(`the nearest rows ranked, and the early-exit scan over blocks of rows that keeps the nearest (dim ${dim})`, () => {
    const [count, top] = [60, 5];
    const row = Math.ceil(dim / 4) * 4;
    const stride = row + 4; // ranked rows need not be contiguous
    const [q, rows, out] = [HEAP_START, HEAP_START + row, HEAP_START + row + count * stride];
    const blocks = out + 2 * top;
    const [simd, js] = pair(blocks + count * dim, dim, dim);
    const h = simd.heap;
    for (const k of [simd, js]) {
      for (let d = dim; d < row; d++) k.heap[q + d] = 0;
      for (let i = 0; i < count; i++) {
        for (let d = dim; d < row; d++) k.heap[rows + i * stride + d] = 0;
        writeRow(k.heap, blocks, dim, i, k.heap, rows + i * stride);
      }
    }
    const all = Array.from({ length: count }, (_, i) => Array.from({ length: dim }, (_, d) => (h[rows + i * stride + d]! - h[q + d]!) ** 2).reduce((a, b) => a + b, 0));
    const ranked = all.map((_, i) => i).sort((a, b) => all[a]! - all[b]!);
    const nearest = ranked[0]!;
    for (const k of [simd, js]) {
      k.rank(q, rows, count, stride, top, out);
      expect(Array.from(k.ints.subarray(out + top, out + 2 * top))).toEqual(ranked.slice(0, top));
      for (let p = 0; p < top; p++) close(k.heap[out + p]!, all[ranked[p]!]!);
      close(k.scan(q, blocks, count / 4, Infinity), all[nearest]!);
      expect(k.improved()).toBe(nearest);
      close(k.scan(q, blocks + 8 * dim, count / 4 - 2, Infinity), Math.min(...all.slice(8)));
      expect(k.improved()).toBe(all.slice(8).indexOf(Math.min(...all.slice(8))));
      expect(k.scan(q, blocks, count / 4, Math.fround(all[nearest]! * 0.5))).toBe(Math.fround(all[nearest]! * 0.5));
      expect(k.improved()).toBe(-1);
    }
  });

  it('keep their contents when the heap grows', () => {
    for (const k of [createKernels(8, { prefer: 'simd' }), createKernels(8, { prefer: 'js' })]) {
      k.heap[HEAP_START] = 3;
      k.reserve(1 << 20);
      expect(k.heap.length).toBeGreaterThanOrEqual(1 << 20);
      expect(k.heap[HEAP_START]).toBe(3);
    }
  });
});
