import { describe, expect, it } from 'vitest';
import { buildIndex } from '../../../src/model-server/runtimes/builtin/build-index.js';
import { NearestSearch } from '../../../src/model-server/runtimes/builtin/nearest.js';
import { mulberry } from '../../../src/model-server/train/coreset.js';

const random = mulberry;

/** Correlated vectors (like patch descriptors): a few latent factors plus noise. */
function vectors(n: number, dim: number, seed: number): Float32Array {
  const r = random(seed);
  const mix = Float32Array.from({ length: 6 * dim }, () => r() * 2 - 1);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const z = Array.from({ length: 6 }, () => r() * 4 - 2);
    for (let d = 0; d < dim; d++) {
      let v = (r() - 0.5) * 0.3;
      for (let f = 0; f < 6; f++) v += z[f]! * mix[f * dim + d]!;
      out[i * dim + d] = v;
    }
  }
  return out;
}

function bruteForce(bank: Float32Array, queries: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(queries.length / dim);
  for (let q = 0; q < out.length; q++) {
    let best = Infinity;
    for (let i = 0; i < bank.length / dim; i++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += (bank[i * dim + d]! - queries[q * dim + d]!) ** 2;
      best = Math.min(best, s);
    }
    out[q] = best;
  }
  return out;
}

/** The built-in model's search (rotated bank, SIMD scan, seeded bounds) against plain brute force. */
describe('built-in nearest-neighbour search', () => {
  it('has WebAssembly SIMD on this Node (else the slower JavaScript kernels run)', () => {
    expect(new NearestSearch(buildIndex(vectors(10, 4, 1), 4)).simd).toBe(true);
  });
});

for (const kernels of ['simd', 'js'] as const) describe(`built-in nearest-neighbour search (${kernels} kernels)`, () => {
  for (const dim of [50, 13]) {
    it(`finds the exact nearest distance when every list is probed (dim ${dim})`, () => {
      const bank = vectors(600, dim, dim);
      const queries = vectors(200, dim, dim + 1);
      const index = buildIndex(bank, dim, { lists: 24, probes: 24 });
      const got = new NearestSearch(index, { kernels }).distances(queries);
      const want = bruteForce(bank, queries, dim);
      for (let q = 0; q < want.length; q++) expect(Math.abs(got[q]! - want[q]!)).toBeLessThanOrEqual(1e-4 * Math.max(1, want[q]!));
    });
  }

  it('with few probes never reports less than the true distance, and mostly the true one', () => {
    const dim = 50;
    const bank = vectors(800, dim, 3);
    const queries = vectors(300, dim, 4);
    const got = new NearestSearch(buildIndex(bank, dim, { lists: 28, probes: 4 }), { kernels }).distances(queries);
    const want = bruteForce(bank, queries, dim);
    let exact = 0;
    for (let q = 0; q < want.length; q++) {
      expect(got[q]!).toBeGreaterThanOrEqual(want[q]! * (1 - 1e-5));
      if (got[q]! <= want[q]! * (1 + 1e-5)) exact++;
    }
    expect(exact / want.length).toBeGreaterThan(0.8);
  });

  it('names the bank row it measured: the reported distance is the distance to that row (probed and held-out searches)', () => {
    const dim = 50;
    const owners = Int32Array.from({ length: 800 }, (_, i) => i % 5);
    const index = buildIndex(vectors(800, dim, 6), dim, { lists: 28, probes: 4, owners });
    const queries = vectors(300, dim, 7);
    const search = new NearestSearch(index, { kernels });
    for (const exclude of [undefined, 2]) {
      const rows = new Int32Array(300).fill(-1);
      const got = search.distances(queries, exclude, rows);
      for (let q = 0; q < got.length; q++) {
        const r = rows[q]!;
        expect(r).toBeGreaterThanOrEqual(0);
        if (exclude !== undefined) expect(index.owners![r]).not.toBe(exclude);
        let s = 0;
        for (let d = 0; d < dim; d++) s += (index.bank[r * dim + d]! - queries[q * dim + d]!) ** 2;
        expect(Math.abs(s - got[q]!)).toBeLessThanOrEqual(1e-3 * Math.max(1, s));
      }
    }
  });

  it('skips one owner when scoring held-out training images', () => {
    const dim = 8;
    const bank = vectors(100, dim, 5);
    const owners = Int32Array.from({ length: 100 }, (_, i) => i % 4);
    const index = buildIndex(bank, dim, { lists: 5, owners });
    const query = bank.slice(0, dim); // vector 0, owner 0: distance 0 unless owner 0 is skipped
    const search = new NearestSearch(index, { kernels });
    expect(search.distances(query)[0]).toBeLessThan(1e-6);
    const others = bank.filter((_, k) => owners[Math.floor(k / dim)] !== 0);
    expect(search.distances(query, 0)[0]).toBeCloseTo(bruteForce(others, query, dim)[0]!, 3);
  });
});
