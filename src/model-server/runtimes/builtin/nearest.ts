import { bankRotation, rotateAll } from './bank-rotation.js';
import { type BankBlocks, blockLayout, writeRow } from './bank-blocks.js';
import { createKernels, HEAP_START, type KernelChoice, type Kernels } from './kernels.js';

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

/**
 * A search prepared for one index and reused frame after frame (one caller at a time). The bank
 * and centroids live in the kernels' heap (`kernels.ts`), expressed in the bank's principal axes
 * (`bank-rotation.ts`; distances unchanged); the bank in blocks of 4 rows (`bank-blocks.ts`). A
 * frame's queries are rotated in one batch (an affine map in the kernels); then per query the
 * kernels rank the lists by centroid distance, and the `probes` nearest lists are scanned nearest
 * first.
 *
 * Pruning, all exact for the lists probed:
 * - partial distances: a sum of squares only grows, so a block of rows is dropped as soon as all
 *   its sums pass the best distance so far (checked every 4 dimensions from the 12th,
 *   largest-variance axes first);
 * - queries come in grid order and neighbouring cells look alike, so the block of the previous
 *   query's nearest vector gives a tight first bound;
 * - lists are scanned nearest centroid first, so the bound tightens early.
 * The probed set is the one a full ranking picks (ties aside). The seed block may hold rows of
 * other lists: it can only lower a distance, towards the exact nearest one.
 */
export class NearestSearch {
  private readonly k: Kernels;
  private readonly dim: number;
  private readonly lists: number;
  private readonly probes: number;
  private readonly blocks: BankBlocks;
  private readonly owners: Int32Array | undefined;
  /** Training only (with owners): the rotated bank rows, to restore the rows `excluding` hides. */
  private readonly rotatedBank: Float32Array | undefined;
  /** Floats per centroid and rotated query row (dim padded to whole vectors). */
  private readonly stride: number;
  /** Floats per query row fed to the rotation (dim padded to whole vector pairs). */
  private readonly inStride: number;
  private readonly bankAt: number;
  private readonly centroidsAt: number;
  private readonly axesAt: number;
  private readonly biasAt: number;
  /** Where `rank` writes the probed lists: distances, then list indices. */
  private readonly probedAt: number;
  private readonly queriesAt: number;

  constructor(index: MemoryIndex, options: { kernels?: KernelChoice } = {}) {
    const dim = index.dim;
    this.dim = dim;
    this.lists = index.offsets.length - 1;
    this.probes = Math.max(1, Math.min(index.probes, this.lists));
    this.blocks = blockLayout(index.offsets);
    this.owners = index.owners;
    this.stride = Math.ceil(dim / 4) * 4;
    this.inStride = Math.ceil(dim / 8) * 8;
    this.bankAt = HEAP_START;
    this.centroidsAt = this.bankAt + this.blocks.source.length * dim;
    this.axesAt = this.centroidsAt + this.lists * this.stride;
    this.biasAt = this.axesAt + dim * this.inStride;
    this.probedAt = this.biasAt + this.stride;
    this.queriesAt = this.probedAt + Math.ceil((2 * this.probes) / 4) * 4;
    this.k = createKernels(this.queriesAt, { dim, prefer: options.kernels });

    const rotation = bankRotation(index.bank, dim);
    const heap = this.k.heap;
    const putRows = (rows: Float64Array, at: number, stride: number): void => {
      for (let i = 0; i < rows.length / dim; i++) for (let d = 0; d < dim; d++) heap[at + i * stride + d] = rows[i * dim + d]!;
    };
    const bank = rotateAll(rotation, index.bank);
    this.blocks.source.forEach((row, p) => writeRow(heap, this.bankAt, dim, p, bank, row * dim));
    this.rotatedBank = index.owners ? Float32Array.from(bank) : undefined;
    putRows(rotateAll(rotation, index.centroids), this.centroidsAt, this.stride);
    // rotated_r = axes_r · (x − mean) = axes_r · x + bias_r with bias_r = −axes_r · mean.
    putRows(rotation.axes, this.axesAt, this.inStride);
    for (let r = 0; r < dim; r++) {
      let b = 0;
      for (let d = 0; d < dim; d++) b -= rotation.axes[r * dim + d]! * rotation.mean[d]!;
      heap[this.biasAt + r] = b;
    }
  }

  /** Whether the WebAssembly SIMD kernels run (else the JavaScript ones). */
  get simd(): boolean {
    return this.k.simd;
  }

  /**
   * Squared distance from every query vector (`queries[q * dim + d]`) to its nearest bank vector;
   * with `rows`, that vector's row in the index's bank is written at rows[q].
   * `excludeOwner` (training) skips one image's vectors and searches exhaustively.
   */
  distances(queries: Float32Array, excludeOwner?: number, rows?: Int32Array): Float32Array {
    const nq = queries.length / this.dim;
    const at = this.rotate(queries, nq);
    if (excludeOwner !== undefined && this.owners) return this.excluding(at, nq, this.owners, excludeOwner, rows);
    const { k, stride, bankAt, probes, probedAt } = this;
    const { listStart } = this.blocks;
    const blockFloats = 4 * this.dim;
    const out = new Float32Array(nq);
    const exhaustive = probes >= this.lists;
    const lists = exhaustive ? 1 : probes;
    let nearest = 0;
    for (let qi = 0, q = at; qi < nq; qi++, q += stride) {
      const seedBlock = nearest >> 2;
      let best = k.scan(q, bankAt + seedBlock * blockFloats, 1, Infinity);
      const seeded = k.improved();
      if (seeded >= 0) nearest = seedBlock * 4 + seeded;
      if (!exhaustive) k.rank(q, this.centroidsAt, this.lists, stride, probes, probedAt);
      for (let p = 0; p < lists; p++) {
        const list = k.ints[probedAt + probes + p]!;
        const from = exhaustive ? 0 : listStart[list]!;
        const to = exhaustive ? listStart[this.lists]! : listStart[list + 1]!;
        best = k.scan(q, bankAt + from * blockFloats, to - from, best);
        const improved = k.improved();
        if (improved >= 0) nearest = from * 4 + improved;
      }
      out[qi] = best;
      if (rows) rows[qi] = this.blocks.source[nearest]!;
    }
    return out;
  }

  /** Copies the queries into the heap (after their offset list) and rotates them; returns where the rotated rows start. */
  private rotate(queries: Float32Array, nq: number): number {
    const { k, dim, stride, inStride, queriesAt } = this;
    const inAt = queriesAt + Math.ceil(nq / 4) * 4;
    const rotatedAt = inAt + nq * inStride;
    k.reserve(rotatedAt + nq * stride);
    const { heap, ints } = k;
    heap.fill(0, inAt, rotatedAt + nq * stride);
    for (let qi = 0; qi < nq; qi++) {
      ints[queriesAt + qi] = qi * inStride;
      heap.set(queries.subarray(qi * dim, (qi + 1) * dim), inAt + qi * inStride);
    }
    k.affine(queriesAt, nq, inAt, 1, 0, inStride / 8, this.axesAt, dim, this.biasAt, rotatedAt, stride);
    return rotatedAt;
  }

  /**
   * Exhaustive search skipping the vectors of one owner (held-out scoring while training): its rows
   * are moved far away (no distance to them can be the nearest) for the call, then put back.
   */
  private excluding(at: number, nq: number, owners: Int32Array, exclude: number, rows?: Int32Array): Float32Array {
    const { k, dim, stride, bankAt, rotatedBank } = this;
    const { source, listStart } = this.blocks;
    const hidden: number[] = [];
    for (let p = 0; p < source.length; p++) if (owners[source[p]!] === exclude) hidden.push(p);
    const far = new Float32Array(dim).fill(1e18);
    const out = new Float32Array(nq);
    try {
      for (const p of hidden) writeRow(k.heap, bankAt, dim, p, far, 0);
      for (let qi = 0, q = at; qi < nq; qi++, q += stride) {
        out[qi] = k.scan(q, bankAt, listStart[this.lists]!, Infinity);
        if (rows) rows[qi] = source[Math.max(0, k.improved())]!;
      }
    } finally {
      for (const p of hidden) writeRow(k.heap, bankAt, dim, p, rotatedBank!, source[p]! * dim);
    }
    return out;
  }
}
