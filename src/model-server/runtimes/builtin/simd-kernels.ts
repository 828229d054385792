import { assemble, F32, I32, leb, op, V128, v128Load32SplatAt, v128LoadAt, type WasmFunction } from './wasm-assembler.js';

/**
 * The built-in model's hot loops as WebAssembly 128-bit SIMD (4 float32 lanes), which V8 does not
 * vectorise from JavaScript. Addresses and strides are in bytes; vectors are 16-byte runs, rows
 * zero-padded to whole vectors. A module is assembled for one dimension `dim`: scan and rank are
 * unrolled over it (rank keeps the query's vectors in locals). In WAT-like pseudocode
 * (hsum(v) = (v0 + v2) + (v1 + v3)):
 *
 *   scan(q, block, count, best: f32) → f32
 *     Squared distances from the query row q to the rows of `count` blocks of 4 rows stored
 *     dimension-major (block[4·d + j] = row j's dimension d: one lane per row, no horizontal sums).
 *     A block is dropped as soon as all four partial sums pass best (checked every 4 dimensions
 *     from the 12th, and after the last); else its lanes below best improve it in lane order.
 *     The improving row (4·i + lane) is stored at i32 address 0, -1 if none.
 *       mem[0] = -1
 *       for i < count:
 *         for d < dim: acc(d % 2) += (block[d] − splat(q[d]))²
 *           (d = 11, 15, 19, …, dim − 1): if every lane of acc0 + acc1 > best: next block
 *         for lane j: if (acc0 + acc1)[j] < best: best = it; mem[0] = 4·i + j
 *         block += 16·dim
 *       return best
 *
 *   rank(q, rows, count, stride, k, out)
 *     The k rows nearest to q, nearest first (ties: the earlier row): their squared distances
 *     hsum(Σ_v (row[v] − q[v])²) at f32 out[0…k), their indices at i32 out[k…2k); an insertion
 *     into the sorted top k for each row nearer than the k-th so far.
 *
 *   affine(offs, n, base, segs, segStride, pairs, a, m, bias, out, outStride)
 *     for j < n: x = base + 4·offs[j]                 n vectors x, each `segs` runs of `pairs` vector
 *       for r < m:                                    pairs `segStride` apart (a window of an image,
 *         acc0 = Σ x[2k] · a_r[2k]                    or one contiguous row), through the matrix a
 *         acc1 = Σ x[2k+1] · a_r[2k+1]                of m rows of segs·pairs·8 floats:
 *         out[r] = hsum(acc0 + acc1) + bias[r]        out[r] = a_r · x + bias[r]
 *       out += outStride                              (two accumulators a row, rows in pairs
 *                                                     sharing the loads of x: independent chains)
 */
export interface SimdExports {
  readonly memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  readonly scan: (q: number, block: number, count: number, best: number) => number;
  readonly rank: (q: number, rows: number, count: number, stride: number, k: number, out: number) => void;
  readonly affine: (offs: number, n: number, base: number, segs: number, segStride: number, pairs: number, a: number, m: number, bias: number, out: number, outStride: number) => void;
}

const get = (x: number): number[] => [...op.get, x];
const set = (x: number): number[] => [...op.set, x];
const i32 = (n: number): number[] => [...op.i32Const, ...leb(n)];
const addTo = (x: number, by: number[]): number[] => [...get(x), ...by, ...op.i32Add, ...set(x)];
/** Loop until local `i` reaches local `n` (the loop body must end by incrementing `i`). */
const whileBelow = (i: number, n: number, body: number[]): number[] => [...op.block, ...op.loop, ...get(i), ...get(n), ...op.i32GeU, ...op.brIf, 1, ...body, ...op.br, 0, ...op.end, ...op.end];
/** (v0 + v2) + (v1 + v3): the upper half shuffled onto the lower, one vector add, two lanes (t: v128 scratch). */
const hsum = (v: number, t: number): number[] => [
  ...get(v), ...get(v), ...get(v), ...op.i8x16Shuffle, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7, ...op.f32x4Add, ...op.tee, t,
  ...op.lane, 0, ...get(t), ...op.lane, 1, ...op.f32Add,
];
/** Byte address base + 4·index (an f32 slot). */
const slot = (base: number, index: number): number[] => [...get(base), ...get(index), ...i32(2), ...op.i32Shl, ...op.i32Add];
/** (row[k] − q_k)² on the stack, with q_k in local `qk` and d a v128 scratch local. */
const squaredDiff = (row: number, k: number, qk: number, d: number): number[] => [
  ...get(row), ...v128LoadAt(16 * k), ...get(qk), ...op.f32x4Sub, ...op.tee, d, ...get(d), ...op.f32x4Mul,
];

function scan(dim: number): WasmFunction {
  const [q, block, count, best, i, acc0, acc1, d, t, bv, s] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  // (block[dd] − splat(q[dd]))², into acc0 for even dimensions and acc1 for odd ones.
  const accumulate = (dd: number): number[] => [
    ...get(block), ...v128LoadAt(16 * dd), ...get(q), ...v128Load32SplatAt(4 * dd), ...op.f32x4Sub, ...op.tee, d, ...get(d), ...op.f32x4Mul,
    ...(dd < 2 ? [] : [...get(dd % 2 === 0 ? acc0 : acc1), ...op.f32x4Add]), ...set(dd % 2 === 0 ? acc0 : acc1),
  ];
  const sum = [...get(acc0), ...get(acc1), ...op.f32x4Add, ...op.tee, t];
  const allPast = [...sum, ...get(bv), ...op.f32x4Gt, ...op.i32x4AllTrue, ...op.brIf, 0];
  // Checked every 4 dimensions from the 12th on (before that all four rows of a block have rarely
  // passed the bound: a check would cost more than the dimensions it saves), and after the last.
  const dims = Array.from({ length: dim }, (_, dd) => [...accumulate(dd), ...((dd % 4 === 3 && dd >= 11) || dd === dim - 1 ? allPast : [])]).flat();
  const lanes = Array.from({ length: 4 }, (_, j) => [
    ...get(t), ...op.lane, j, ...op.tee, s, ...get(best), ...op.f32Lt,
    ...op.if, ...get(s), ...set(best), ...i32(0), ...get(i), ...i32(2), ...op.i32Shl, ...i32(j), ...op.i32Add, ...op.i32Store, ...op.end,
  ]).flat();
  const body = [
    ...i32(0), ...i32(-1), ...op.i32Store,
    ...get(best), ...op.f32x4Splat, ...set(bv),
    ...(dim < 2 ? [...op.v128Zero, ...set(acc1)] : []),
    ...whileBelow(i, count, [
      ...op.block, ...dims, ...lanes, ...get(best), ...op.f32x4Splat, ...set(bv), ...op.end,
      ...addTo(block, i32(16 * dim)), ...addTo(i, i32(1)),
    ]),
    ...get(best),
  ];
  return { name: 'scan', params: [I32, I32, I32, F32], results: [F32], locals: [I32, V128, V128, V128, V128, V128, F32], body };
}

function rank(nv: number): WasmFunction {
  const [q, rows, count, stride, k, out, c, filled, j, ids, dist, acc, d, q0] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const at = (base: number, index: number[]): number[] => [...get(base), ...index, ...i32(2), ...op.i32Shl, ...op.i32Add];
  const minus1 = (x: number): number[] => [...get(x), ...i32(1), ...op.i32Sub];
  const loadQuery = Array.from({ length: nv }, (_, v) => [...get(q), ...v128LoadAt(16 * v), ...set(q0 + v)]).flat();
  const sum = [...squaredDiff(rows, 0, q0, d), ...Array.from({ length: nv - 1 }, (_, v) => [...squaredDiff(rows, v + 1, q0 + v + 1, d), ...op.f32x4Add]).flat(), ...set(acc)];
  const insert = [
    ...op.block,
    // Full and not nearer than the k-th: skip.
    ...get(filled), ...get(k), ...op.i32GeU, ...get(dist), ...at(out, minus1(k)), ...op.f32Load, ...op.f32Lt, ...op.i32Eqz, ...op.i32And, ...op.brIf, 0,
    ...get(filled), ...minus1(k), ...get(filled), ...get(k), ...op.i32LtU, ...op.select, ...set(j),
    ...get(filled), ...get(filled), ...get(k), ...op.i32LtU, ...op.i32Add, ...set(filled),
    ...op.block, ...op.loop,
    ...get(j), ...op.i32Eqz, ...op.brIf, 1,
    ...at(out, minus1(j)), ...op.f32Load, ...get(dist), ...op.f32Gt, ...op.i32Eqz, ...op.brIf, 1,
    ...at(out, get(j)), ...at(out, minus1(j)), ...op.f32Load, ...op.f32Store,
    ...at(ids, get(j)), ...at(ids, minus1(j)), ...op.i32Load, ...op.i32Store,
    ...minus1(j), ...set(j),
    ...op.br, 0, ...op.end, ...op.end,
    ...at(out, get(j)), ...get(dist), ...op.f32Store,
    ...at(ids, get(j)), ...get(c), ...op.i32Store,
    ...op.end,
  ];
  const body = [
    ...at(out, get(k)), ...set(ids),
    ...loadQuery,
    ...whileBelow(c, count, [...sum, ...hsum(acc, d), ...set(dist), ...insert, ...addTo(rows, get(stride)), ...addTo(c, i32(1))]),
  ];
  return { name: 'rank', params: [I32, I32, I32, I32, I32, I32], results: [], locals: [I32, I32, I32, I32, F32, V128, V128, ...new Array<number>(nv).fill(V128)], body };
}

function affine(): WasmFunction {
  const [offs, n, base, segs, segStride, pairs, a, m, bias, out, outStride] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const [j, r, g, v, ap, ap2, rowBytes, x, sp, xp, x0, x1, acc0, acc1, acc2, acc3] = [11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26];
  const madd = (acc: number, xv: number, row: number, offset: number): number[] => [...get(xv), ...get(row), ...v128LoadAt(offset), ...op.f32x4Mul, ...get(acc), ...op.f32x4Add, ...set(acc)];
  const store = (index: number[], lo: number, hi: number): number[] => [
    ...get(out), ...index, ...i32(2), ...op.i32Shl, ...op.i32Add,
    ...get(lo), ...get(hi), ...op.f32x4Add, ...set(lo), ...hsum(lo, hi),
    ...get(bias), ...index, ...i32(2), ...op.i32Shl, ...op.i32Add, ...op.f32Load, ...op.f32Add,
    ...op.f32Store,
  ];
  const next = [...get(r), ...i32(1), ...op.i32Add];
  const body = [
    ...get(segs), ...get(pairs), ...op.i32Mul, ...i32(5), ...op.i32Shl, ...set(rowBytes),
    ...whileBelow(j, n, [
      ...get(base), ...slot(offs, j), ...op.i32Load, ...i32(2), ...op.i32Shl, ...op.i32Add, ...set(x),
      ...i32(0), ...set(r), ...get(a), ...set(ap),
      ...whileBelow(r, m, [
        // Rows r and r + 1 share each load of x (4 independent chains); an odd last row pairs with itself.
        ...get(ap), ...get(rowBytes), ...op.i32Add, ...get(ap), ...next, ...get(m), ...op.i32LtU, ...op.select, ...set(ap2),
        ...op.v128Zero, ...set(acc0), ...op.v128Zero, ...set(acc1), ...op.v128Zero, ...set(acc2), ...op.v128Zero, ...set(acc3),
        ...get(x), ...set(sp), ...i32(0), ...set(g),
        ...whileBelow(g, segs, [
          ...get(sp), ...set(xp), ...i32(0), ...set(v),
          ...whileBelow(v, pairs, [
            ...get(xp), ...op.v128Load, ...set(x0), ...get(xp), ...v128LoadAt(16), ...set(x1),
            ...madd(acc0, x0, ap, 0), ...madd(acc1, x1, ap, 16), ...madd(acc2, x0, ap2, 0), ...madd(acc3, x1, ap2, 16),
            ...addTo(xp, i32(32)), ...addTo(ap, i32(32)), ...addTo(ap2, i32(32)), ...addTo(v, i32(1)),
          ]),
          ...addTo(sp, get(segStride)), ...addTo(g, i32(1)),
        ]),
        ...store(get(r), acc0, acc1),
        ...next, ...get(m), ...op.i32LtU, ...op.if, ...store(next, acc2, acc3), ...op.end,
        ...get(ap2), ...set(ap), ...addTo(r, i32(2)),
      ]),
      ...addTo(out, get(outStride)), ...addTo(j, i32(1)),
    ]),
  ];
  return { name: 'affine', params: new Array<number>(11).fill(I32), results: [], locals: [...new Array<number>(10).fill(I32), ...new Array<number>(6).fill(V128)], body };
}

interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}
/** The few WebAssembly API members used (the project's TypeScript libs do not declare them). */
const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/** Compiled modules by the dimension their scan and rank are unrolled for; null: no SIMD. */
const compiled = new Map<number, object | null>();

/** A fresh instance (own memory) for vectors of `dim` dimensions, or undefined where WebAssembly SIMD is unavailable. */
export function instantiateSimd(dim: number): SimdExports | undefined {
  let module = compiled.get(dim);
  if (module === undefined) {
    const bytes = assemble([scan(dim), rank(Math.ceil(dim / 4)), affine()]);
    module = wasm?.validate(bytes) ? new wasm.Module(bytes) : null;
    compiled.set(dim, module);
  }
  if (!module || !wasm) return undefined;
  const e = new wasm.Instance(module, {}).exports;
  return { memory: e['mem'] as SimdExports['memory'], scan: e['scan'] as SimdExports['scan'], rank: e['rank'] as SimdExports['rank'], affine: e['affine'] as SimdExports['affine'] };
}
