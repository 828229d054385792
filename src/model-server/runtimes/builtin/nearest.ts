import { type BankRotation, bankRotation, rotate, rotateAll } from './bank-rotation.js';
import { createSimdScan, type SimdScan } from './simd-scan.js';

/**
 * Nearest-neighbour search over the memory bank of normal patch features.
 *
 * An inverted file: the bank is partitioned by k-means into `lists` cells; a query visits the
 * `probes` cells whose centroids are nearest and scans their members exhaustively. With probes equal
 * to lists it is an exact brute-force search.
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
 * A search prepared for one index and reused frame after frame (one caller at a time): the bank
 * and centroids expressed in the bank's principal axes (`bank-rotation.ts`; distances unchanged),
 * and scratch buffers, so a frame allocates only its result. Each query is rotated once
 * (dim² multiply-adds), which pays for itself in earlier exits.
 *
 * Pruning, all exact for the lists probed:
 * - partial distances: a sum of squares only grows, so a candidate is dropped as soon as its sum
 *   passes the best distance so far (checked every 4 dimensions, largest-variance axes first);
 * - queries come in grid order and neighbouring cells look alike, so the previous query's nearest
 *   vector gives a tight first bound, and its probed lists are ranked first, which makes the k-th
 *   best centroid distance (the bound for ranking the other centroids) tight from the start;
 * - lists are scanned nearest centroid first, so the bound tightens early.
 * The probed set is the one a full ranking picks (ties aside), so results do not depend on the
 * order of the queries.
 */
export class NearestSearch {
  private readonly dim: number;
  private readonly bank: Float32Array;
  private readonly centroids: Float32Array;
  private readonly offsets: Uint32Array;
  private readonly lists: number;
  private readonly probes: number;
  private readonly owners: Int32Array | undefined;
  private readonly rotation: BankRotation;
  private readonly scratch: Float64Array;
  private readonly q: Float64Array;
  private readonly cd: Float64Array;
  private readonly seen: Int32Array;
  private readonly order: Int32Array;
  private readonly prevOrder: Int32Array;
  /** The bank scan in WebAssembly SIMD (undefined: the JavaScript loop is used). */
  private readonly simd: SimdBank | undefined;

  constructor(index: MemoryIndex) {
    this.dim = index.dim;
    this.rotation = bankRotation(index.bank, index.dim);
    this.bank = Float32Array.from(rotateAll(this.rotation, index.bank));
    this.centroids = Float32Array.from(rotateAll(this.rotation, index.centroids));
    this.scratch = new Float64Array(this.dim);
    this.offsets = index.offsets;
    this.lists = index.offsets.length - 1;
    this.probes = Math.max(1, Math.min(index.probes, this.lists));
    this.owners = index.owners;
    this.q = new Float64Array(this.dim);
    this.cd = new Float64Array(this.lists);
    this.seen = new Int32Array(this.lists).fill(-1);
    this.order = new Int32Array(this.probes);
    this.prevOrder = new Int32Array(this.probes);
    this.simd = simdBank(this.bank, this.dim);
  }

  /**
   * Squared distance from every query vector (`queries[q * dim + d]`) to its nearest bank vector.
   * `excludeOwner` (training) skips one image's vectors and searches exhaustively.
   */
  distances(queries: Float32Array, excludeOwner?: number): Float32Array {
    if (excludeOwner !== undefined && this.owners) return this.excluding(queries, this.owners, excludeOwner);
    const { dim, bank, offsets, q, order, simd } = this;
    const nq = queries.length / dim;
    const out = new Float32Array(nq);
    const exhaustive = this.probes >= this.lists;
    let nearest = 0;
    for (let qi = 0; qi < nq; qi++) {
      rotate(this.rotation, queries, qi * dim, q, 0, this.scratch);
      if (simd) simd.query.set(q);
      let best = sqDistQ(bank, nearest * dim, q, dim, Infinity);
      const lists = exhaustive ? 1 : this.rankLists(qi);
      for (let p = 0; p < lists; p++) {
        const from = exhaustive ? 0 : offsets[order[p]!]!;
        const to = exhaustive ? offsets[this.lists]! : offsets[order[p]! + 1]!;
        if (simd) {
          best = simd.scan.scan(QUERY_AT, simd.bankAt + from * simd.rowBytes, to - from, simd.rowBytes, simd.vectors, best);
          const improved = simd.result[0]!;
          if (improved >= 0) nearest = from + improved;
          continue;
        }
        for (let i = from; i < to; i++) {
          const dist = sqDistQ(bank, i * dim, q, dim, best);
          if (dist < best) {
            best = dist;
            nearest = i;
          }
        }
      }
      out[qi] = best;
    }
    return out;
  }

  /** Fills `order` with the `probes` lists nearest to `q`, nearest first; returns how many. */
  private rankLists(stamp: number): number {
    const { dim, centroids, cd, seen, order, prevOrder, probes, q } = this;
    let filled = 0;
    if (stamp > 0) {
      for (let p = 0; p < probes; p++) {
        const c = prevOrder[p]!;
        cd[c] = sqDistQ(centroids, c * dim, q, dim, Infinity);
        seen[c] = stamp;
        filled = insert(cd, order, c, filled);
      }
    }
    for (let c = 0; c < this.lists; c++) {
      if (seen[c] === stamp) continue;
      seen[c] = stamp;
      const bound = filled < probes ? Infinity : cd[order[probes - 1]!]!;
      cd[c] = sqDistQ(centroids, c * dim, q, dim, bound);
      if (filled < probes || cd[c]! < bound) filled = insert(cd, order, c, filled);
    }
    prevOrder.set(order);
    return probes;
  }

  /** Exhaustive search skipping the vectors of one owner (held-out scoring while training). */
  private excluding(queries: Float32Array, owners: Int32Array, exclude: number): Float32Array {
    const { dim, bank, q } = this;
    const n = bank.length / dim;
    const nq = queries.length / dim;
    const out = new Float32Array(nq);
    for (let qi = 0; qi < nq; qi++) {
      rotate(this.rotation, queries, qi * dim, q, 0, this.scratch);
      let best = Infinity;
      for (let i = 0; i < n; i++) {
        if (owners[i] === exclude) continue;
        const dist = sqDistQ(bank, i * dim, q, dim, best);
        if (dist < best) best = dist;
      }
      out[qi] = best;
    }
    return out;
  }
}

/** Byte address of the query in the WebAssembly memory (the first 16 bytes hold the result index). */
const QUERY_AT = 16;

interface SimdBank {
  readonly scan: SimdScan;
  readonly bankAt: number;
  readonly rowBytes: number;
  readonly vectors: number;
  readonly query: Float32Array;
  readonly result: Int32Array;
}

/** Copies the (rotated) bank into a SIMD scanner's memory, rows zero-padded to whole 4-float vectors. */
function simdBank(bank: Float32Array, dim: number): SimdBank | undefined {
  const scan = createSimdScan();
  if (!scan) return undefined;
  const padded = Math.ceil(dim / 4) * 4;
  const rowBytes = padded * 4;
  const n = bank.length / dim;
  const bankAt = QUERY_AT + rowBytes;
  const bytes = bankAt + n * rowBytes;
  scan.memory.grow(Math.max(0, Math.ceil(bytes / 65536) - scan.memory.buffer.byteLength / 65536));
  const f = new Float32Array(scan.memory.buffer);
  for (let i = 0; i < n; i++) f.set(bank.subarray(i * dim, (i + 1) * dim), (bankAt + i * rowBytes) / 4);
  return { scan, bankAt, rowBytes, vectors: padded / 4, query: new Float32Array(scan.memory.buffer, QUERY_AT, dim), result: new Int32Array(scan.memory.buffer, 0, 1) };
}

/** One-off search (builds a `NearestSearch`; keep one per index for repeated use). */
export function nearestDistances(index: MemoryIndex, queries: Float32Array, excludeOwner?: number): Float32Array {
  return new NearestSearch(index).distances(queries, excludeOwner);
}

/** Inserts list c into the sorted top-k `order` by cd; returns the new fill count. */
function insert(cd: Float64Array, order: Int32Array, c: number, filled: number): number {
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

/**
 * Squared distance from a[ao..ao+dim) to the query q with early exit once it passes `bound`
 * (one signature, Float32 bank × Float64 query, keeps the hot loop monomorphic).
 */
function sqDistQ(a: Float32Array, ao: number, q: Float64Array, dim: number, bound: number): number {
  let s = 0;
  let d = 0;
  for (; d + 4 <= dim; d += 4) {
    const x0 = a[ao + d]! - q[d]!;
    const x1 = a[ao + d + 1]! - q[d + 1]!;
    const x2 = a[ao + d + 2]! - q[d + 2]!;
    const x3 = a[ao + d + 3]! - q[d + 3]!;
    s += x0 * x0 + x1 * x1 + x2 * x2 + x3 * x3;
    if (s > bound) return s;
  }
  for (; d < dim; d++) {
    const x = a[ao + d]! - q[d]!;
    s += x * x;
  }
  return s;
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
