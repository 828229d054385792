/**
 * Nearest-neighbour search over the memory bank of normal patch features.
 *
 * An inverted file: the bank is partitioned by k-means into `lists` cells; a query visits the
 * `probes` cells whose centroids are nearest and scans their members exhaustively. With probes equal
 * to lists it is an exact brute-force search. Plain Float32Arrays, no allocation per query.
 */
export interface MemoryIndex {
  readonly dim: number;
  /** Bank vectors reordered so each list is contiguous: `bank[i * dim + d]`. */
  readonly bank: Float32Array;
  readonly centroids: Float32Array;
  /** List boundaries into the bank, length lists + 1. */
  readonly offsets: Uint32Array;
  readonly probes: number;
  /** Training only: which image each bank vector came from, for leave-one-image-out scoring. */
  readonly owners?: Int32Array;
}

export function listCount(index: MemoryIndex): number {
  return index.offsets.length - 1;
}

/**
 * Squared distance from every query vector to its nearest bank vector. Queries come in grid order,
 * so the previous query's nearest vector seeds the bound: most candidates then stop after a few
 * dimensions (early exit); centroid ranking uses the same trick with the k-th best so far.
 */
export function nearestDistances(index: MemoryIndex, queries: Float32Array, excludeOwner?: number): Float32Array {
  if (excludeOwner !== undefined && index.owners) return nearestExcluding(index, queries, index.owners, excludeOwner);
  const { dim, bank, centroids, offsets } = index;
  const lists = offsets.length - 1;
  const probes = Math.min(index.probes, lists);
  const nq = queries.length / dim;
  const out = new Float32Array(nq);
  const cd = new Float32Array(lists);
  const order = new Int32Array(probes);
  const found = { index: 0 };
  for (let q = 0; q < nq; q++) {
    const qo = q * dim;
    let best = sqDist(bank, found.index * dim, queries, qo, dim, Infinity);
    if (probes >= lists) {
      best = scan(bank, 0, offsets[lists]!, queries, qo, dim, best, found);
    } else {
      let filled = 0;
      for (let c = 0; c < lists; c++) {
        const bound = filled < probes ? Infinity : cd[order[probes - 1]!]!;
        cd[c] = sqDist(centroids, c * dim, queries, qo, dim, bound);
        if (filled < probes || cd[c]! < bound) filled = insert(cd, order, c, filled);
      }
      for (let p = 0; p < probes; p++) {
        const c = order[p]!;
        best = scan(bank, offsets[c]!, offsets[c + 1]!, queries, qo, dim, best, found);
      }
    }
    out[q] = best;
  }
  return out;
}

function scan(bank: Float32Array, from: number, to: number, q: Float32Array, qo: number, dim: number, best: number, found: { index: number }): number {
  for (let i = from; i < to; i++) {
    const d = sqDist(bank, i * dim, q, qo, dim, best);
    if (d < best) {
      best = d;
      found.index = i;
    }
  }
  return best;
}

/** Inserts list c into the sorted top-k `order` by cd; returns the new fill count. */
function insert(cd: Float32Array, order: Int32Array, c: number, filled: number): number {
  const k = order.length;
  const v = cd[c]!;
  let j = filled < k ? filled : k - 1;
  while (j > 0 && cd[order[j - 1]!]! > v) {
    order[j] = order[j - 1]!;
    j--;
  }
  order[j] = c;
  return filled < k ? filled + 1 : filled;
}

/** Squared Euclidean distance with early exit once it passes `bound`. */
export function sqDist(a: Float32Array, ao: number, b: Float32Array, bo: number, dim: number, bound: number): number {
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

/** Exact search skipping the vectors of one owner (held-out scoring while training). */
function nearestExcluding(index: MemoryIndex, queries: Float32Array, owners: Int32Array, exclude: number): Float32Array {
  const { dim, bank } = index;
  const n = bank.length / dim;
  const nq = queries.length / dim;
  const out = new Float32Array(nq);
  for (let q = 0; q < nq; q++) {
    let best = Infinity;
    for (let i = 0; i < n; i++) {
      if (owners[i] === exclude) continue;
      const d = sqDist(bank, i * dim, queries, q * dim, dim, best);
      if (d < best) best = d;
    }
    out[q] = best;
  }
  return out;
}
