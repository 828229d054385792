import { describe, expect, it } from 'vitest';
import { instantiateSimd } from '../../../src/model-server/runtimes/builtin/simd-kernels.js';
import { assemble, I32, op } from '../../../src/model-server/runtimes/builtin/wasm-assembler.js';

interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/**
 * The built-in model's WebAssembly kernels are kept as named instructions (simd-kernels.ts) assembled at
 * load time by wasm-assembler.ts, not as reviewed-by-eye bytes. What they compute is held against the
 * JavaScript fallback in builtin-kernels.simd-matches-js.test.ts; this holds the assembler's output valid.
 */
describe('built-in model kernels: assembled from named instructions', () => {
  it('the assembler emits a module WebAssembly validates, exporting memory and each function by name', () => {
    const addThenDouble = { name: 'f', params: [I32, I32], results: [I32], locals: [I32], body: [...op.get, 0, ...op.get, 1, ...op.i32Add, ...op.tee, 2, ...op.get, 2, ...op.i32Add] };
    const bytes = assemble([addThenDouble]);
    expect(wasm.validate(bytes)).toBe(true);
    const exports = new wasm.Instance(new wasm.Module(bytes), {}).exports;
    expect((exports['f'] as (a: number, b: number) => number)(20, 1)).toBe(42);
    expect(exports['mem']).toBeDefined();
    expect(wasm.validate(bytes.subarray(0, bytes.length - 1))).toBe(false);
  });

  it('scan, rank and affine validate for every patch-feature dimension (1-64) and for wide ONNX features', () => {
    const invalid = [...Array.from({ length: 64 }, (_, i) => i + 1), 96, 128, 256].filter((dim) => instantiateSimd(dim) === undefined);
    expect(invalid).toEqual([]);
  });
});
