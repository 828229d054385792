/**
 * Just enough of the WebAssembly binary format to assemble the built-in model's kernels from their
 * instructions (no toolchain, no binary blob): value types, the opcodes the kernels use, and a
 * module of functions over one exported memory (`mem`, grown by the caller).
 */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

/** Opcodes with their immediates where fixed (memory accesses: natural alignment, offset 0). */
export const op = {
  block: [0x02, 0x40], loop: [0x03, 0x40], if: [0x04, 0x40], end: [0x0b], br: [0x0c], brIf: [0x0d],
  get: [0x20], set: [0x21], tee: [0x22], i32Const: [0x41],
  i32Load: [0x28, 0x02, 0x00], f32Load: [0x2a, 0x02, 0x00], i32Store: [0x36, 0x02, 0x00], f32Store: [0x38, 0x02, 0x00],
  select: [0x1b], i32Eqz: [0x45], i32LtU: [0x49], i32GeU: [0x4f], i32Add: [0x6a], i32Sub: [0x6b], i32Mul: [0x6c], i32And: [0x71], i32Shl: [0x74],
  f32Lt: [0x5d], f32Gt: [0x5e], f32Add: [0x92],
  v128Load: [0xfd, 0x00, 0x04, 0x00], v128Zero: [0xfd, 0x0c, ...new Array<number>(16).fill(0)],
  f32x4Splat: [0xfd, 0x13], f32x4Gt: [0xfd, 0x44], i32x4AllTrue: [0xfd, 0xa3, 0x01],
  i8x16Shuffle: [0xfd, 0x0d], f32x4Add: [0xfd, 0xe4, 0x01], f32x4Sub: [0xfd, 0xe5, 0x01], f32x4Mul: [0xfd, 0xe6, 0x01], lane: [0xfd, 0x1f],
} as const;

/** v128.load of the address on the stack plus a constant byte offset. */
export const v128LoadAt = (offset: number): number[] => [0xfd, 0x00, 0x04, ...uleb(offset)];
/** v128.load32_splat: the f32 at the address on the stack plus `offset`, in all four lanes. */
export const v128Load32SplatAt = (offset: number): number[] => [0xfd, 0x09, 0x02, ...uleb(offset)];

/** Signed LEB128 (i32.const immediates). */
export function leb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

function uleb(n: number): number[] {
  return n < 0x80 ? [n] : [(n & 0x7f) | 0x80, ...uleb(n >>> 7)];
}
const vec = (items: readonly number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const str = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

/** One exported function: parameters are locals 0…, then `locals` in order. */
export interface WasmFunction {
  readonly name: string;
  readonly params: readonly number[];
  readonly results: readonly number[];
  readonly locals: readonly number[];
  /** Instructions, without the final `end`. */
  readonly body: readonly number[];
}

/** A module exporting one memory (`mem`, one page to start) and every function by its name. */
export function assemble(functions: readonly WasmFunction[]): Uint8Array {
  const types = functions.map((f) => [0x60, ...vec(f.params.map((t) => [t])), ...vec(f.results.map((t) => [t]))]);
  const codes = functions.map((f) => {
    const code = [...vec(localRuns(f.locals)), ...f.body, ...op.end];
    return [...uleb(code.length), ...code];
  });
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(5, vec([[0x00, 1]])),
    ...section(7, vec([[...str('mem'), 0x02, 0], ...functions.map((f, i) => [...str(f.name), 0x00, ...uleb(i)])])),
    ...section(10, vec(codes)),
  ]);
}

/** Locals declared as runs of one type: [count, type]. */
function localRuns(locals: readonly number[]): number[][] {
  const runs: number[][] = [];
  for (const t of locals) {
    const last = runs[runs.length - 1];
    if (last && last[1] === t) last[0]!++;
    else runs.push([1, t]);
  }
  return runs;
}
