import type { MemoryIndex } from './nearest.js';

/**
 * Builds the inverted-file index over a memory bank: a few Lloyd iterations of k-means from a
 * deterministic spread of seeds, then the bank regrouped by list. Deterministic for a given bank.
 */
export function buildIndex(bank: Float32Array, dim: number, options: { lists?: number; probes?: number; iterations?: number; owners?: Int32Array } = {}): MemoryIndex {
  const n = bank.length / dim;
  const lists = Math.max(1, Math.min(options.lists ?? Math.round(Math.sqrt(n)), n));
  const probes = Math.max(1, Math.min(options.probes ?? Math.max(3, Math.ceil(lists / 14)), lists));
  const centroids = new Float32Array(lists * dim);
  for (let c = 0; c < lists; c++) centroids.set(bank.subarray(Math.floor((c * n) / lists) * dim, (Math.floor((c * n) / lists) + 1) * dim), c * dim);
  const assign = new Int32Array(n);
  const iterations = options.iterations ?? 8;
  for (let it = 0; it <= iterations; it++) {
    for (let i = 0; i < n; i++) {
      let best = Infinity;
      let arg = 0;
      for (let c = 0; c < lists; c++) {
        const d = sqDist(centroids, c * dim, bank, i * dim, dim, best);
        if (d < best) {
          best = d;
          arg = c;
        }
      }
      assign[i] = arg;
    }
    if (it === iterations) break;
    const sums = new Float64Array(lists * dim);
    const counts = new Int32Array(lists);
    for (let i = 0; i < n; i++) {
      const c = assign[i]!;
      counts[c]!++;
      for (let d = 0; d < dim; d++) sums[c * dim + d]! += bank[i * dim + d]!;
    }
    for (let c = 0; c < lists; c++) {
      if (counts[c] === 0) continue;
      for (let d = 0; d < dim; d++) centroids[c * dim + d] = sums[c * dim + d]! / counts[c]!;
    }
  }
  const offsets = new Uint32Array(lists + 1);
  for (let i = 0; i < n; i++) offsets[assign[i]! + 1]!++;
  for (let c = 0; c < lists; c++) offsets[c + 1]! += offsets[c]!;
  const cursor = offsets.slice(0, lists);
  const sorted = new Float32Array(n * dim);
  const owners = options.owners ? new Int32Array(n) : undefined;
  for (let i = 0; i < n; i++) {
    const at = cursor[assign[i]!]!++;
    sorted.set(bank.subarray(i * dim, (i + 1) * dim), at * dim);
    if (owners) owners[at] = options.owners![i]!;
  }
  return { dim, bank: sorted, centroids, offsets, probes, ...(owners ? { owners } : {}) };
}

/** Squared Euclidean distance with early exit once it passes `bound`. */
function sqDist(a: Float32Array, ao: number, b: Float32Array, bo: number, dim: number, bound: number): number {
  let s = 0;
  let d = 0;
  for (; d + 4 <= dim; d += 4) {
    const x0 = a[ao + d]! - b[bo + d]!;
    const x1 = a[ao + d + 1]! - b[bo + d + 1]!;
    const x2 = a[ao + d + 2]! - b[bo + d + 2]!;
    const x3 = a[ao + d + 3]! - b[bo + d + 3]!;
    s += x0 * x0 + x1 * x1 + x2 * x2 + x3 * x3;
    if (s > bound) return s;
  }
  for (; d < dim; d++) {
    const x = a[ao + d]! - b[bo + d]!;
    s += x * x;
  }
  return s;
}
