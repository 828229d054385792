import { bankRotation, rotateAll } from './bank-rotation.js';
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
 * (`bank-rotation.ts`; distances unchanged) and zero-padded to whole vectors. A frame's queries
 * are rotated in one batch (an affine map in the kernels); then per query the distances to every
 * centroid rank the lists, and the `probes` nearest lists are scanned nearest first.
 *
 * Pruning, all exact for the lists probed:
 * - partial distances: a sum of squares only grows, so a candidate is dropped as soon as its sum
 *   passes the best distance so far (checked every 4 dimensions, largest-variance axes first);
 * - queries come in grid order and neighbouring cells look alike, so the previous query's nearest
 *   vector gives a tight first bound;
 * - lists are scanned nearest centroid first, so the bound tightens early.
 * The probed set is the one a full ranking picks (ties aside), so results do not depend on the
 * order of the queries.
 */
export class NearestSearch {
  private readonly k: Kernels;
  private readonly dim: number;
  private readonly size: number;
  private readonly lists: number;
  private readonly probes: number;
  private readonly offsets: Uint32Array;
  private readonly owners: Int32Array | undefined;
  /** Floats per bank, centroid and rotated query row (dim padded to whole vectors), and vectors per row. */
  private readonly stride: number;
  private readonly vectors: number;
  /** Floats per query row fed to the rotation (dim padded to whole vector pairs). */
  private readonly inStride: number;
  private readonly bankAt: number;
  private readonly centroidsAt: number;
  private readonly axesAt: number;
  private readonly biasAt: number;
  private readonly centroidDistAt: number;
  private readonly queriesAt: number;
  private readonly order: Int32Array;

  constructor(index: MemoryIndex, options: { kernels?: KernelChoice } = {}) {
    const dim = index.dim;
    this.dim = dim;
    this.size = index.bank.length / dim;
    this.offsets = index.offsets;
    this.lists = index.offsets.length - 1;
    this.probes = Math.max(1, Math.min(index.probes, this.lists));
    this.owners = index.owners;
    this.order = new Int32Array(this.probes);
    this.stride = Math.max(8, Math.ceil(dim / 4) * 4); // the scan kernel reads at least two vectors
    this.vectors = this.stride / 4;
    this.inStride = Math.ceil(dim / 8) * 8;
    this.bankAt = HEAP_START;
    this.centroidsAt = this.bankAt + this.size * this.stride;
    this.axesAt = this.centroidsAt + this.lists * this.stride;
    this.biasAt = this.axesAt + dim * this.inStride;
    this.centroidDistAt = this.biasAt + this.stride;
    this.queriesAt = this.centroidDistAt + Math.ceil(this.lists / 4) * 4;
    this.k = createKernels(this.queriesAt, { vectors: this.vectors, prefer: options.kernels });

    const rotation = bankRotation(index.bank, dim);
    const heap = this.k.heap;
    const putRows = (rows: Float64Array, at: number, stride: number): void => {
      for (let i = 0; i < rows.length / dim; i++) for (let d = 0; d < dim; d++) heap[at + i * stride + d] = rows[i * dim + d]!;
    };
    putRows(rotateAll(rotation, index.bank), this.bankAt, this.stride);
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
   * Squared distance from every query vector (`queries[q * dim + d]`) to its nearest bank vector.
   * `excludeOwner` (training) skips one image's vectors and searches exhaustively.
   */
  distances(queries: Float32Array, excludeOwner?: number): Float32Array {
    const nq = queries.length / this.dim;
    const at = this.rotate(queries, nq);
    if (excludeOwner !== undefined && this.owners) return this.excluding(at, nq, this.owners, excludeOwner);
    const { k, stride, offsets, order, bankAt } = this;
    const out = new Float32Array(nq);
    const exhaustive = this.probes >= this.lists;
    let nearest = 0;
    for (let qi = 0, q = at; qi < nq; qi++, q += stride) {
      let best = k.scan(q, bankAt + nearest * stride, 1, stride, Infinity);
      const lists = exhaustive ? 1 : this.rankLists(q);
      for (let p = 0; p < lists; p++) {
        const from = exhaustive ? 0 : offsets[order[p]!]!;
        const to = exhaustive ? this.size : offsets[order[p]! + 1]!;
        best = k.scan(q, bankAt + from * stride, to - from, stride, best);
        const improved = k.improved();
        if (improved >= 0) nearest = from + improved;
      }
      out[qi] = best;
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

  /** Fills `order` with the `probes` lists whose centroids are nearest to the query at `q`, nearest first. */
  private rankLists(q: number): number {
    const { k, order, probes, centroidDistAt: at } = this;
    k.sqDists(q, this.centroidsAt, this.lists, this.stride, at);
    const cd = k.heap;
    let filled = 0;
    for (let c = 0; c < this.lists; c++) {
      const v = cd[at + c]!;
      if (filled === probes && !(v < cd[at + order[probes - 1]!]!)) continue;
      let j = filled < probes ? filled++ : probes - 1;
      while (j > 0 && cd[at + order[j - 1]!]! > v) {
        order[j] = order[j - 1]!;
        j--;
      }
      order[j] = c;
    }
    return probes;
  }

  /** Exhaustive search skipping the vectors of one owner (held-out scoring while training). */
  private excluding(at: number, nq: number, owners: Int32Array, exclude: number): Float32Array {
    const { k, stride, bankAt } = this;
    const runs: number[] = [];
    for (let i = 0; i < this.size; i++) {
      if (owners[i] === exclude) continue;
      const from = i;
      while (i < this.size && owners[i] !== exclude) i++;
      runs.push(from, i);
    }
    const out = new Float32Array(nq);
    for (let qi = 0, q = at; qi < nq; qi++, q += stride) {
      let best = Infinity;
      for (let r = 0; r < runs.length; r += 2) best = k.scan(q, bankAt + runs[r]! * stride, runs[r + 1]! - runs[r]!, stride, best);
      out[qi] = best;
    }
    return out;
  }
}
