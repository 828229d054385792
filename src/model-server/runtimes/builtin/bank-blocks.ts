/**
 * The memory bank as the scan kernel reads it (`kernels.ts`): blocks of 4 rows stored
 * dimension-major, each list padded to whole blocks with copies of its last row (a copy changes
 * no nearest distance), so a list is a run of whole blocks.
 */
export interface BankBlocks {
  /** Block offsets of the lists, length lists + 1. */
  readonly listStart: Int32Array;
  /** The bank row each padded row holds (padded row p is lane p % 4 of block ⌊p / 4⌋). */
  readonly source: Int32Array;
}

export function blockLayout(offsets: Uint32Array): BankBlocks {
  const lists = offsets.length - 1;
  const listStart = new Int32Array(lists + 1);
  for (let c = 0; c < lists; c++) listStart[c + 1] = listStart[c]! + Math.ceil((offsets[c + 1]! - offsets[c]!) / 4);
  const source = new Int32Array(listStart[lists]! * 4);
  for (let c = 0; c < lists; c++) {
    for (let p = listStart[c]! * 4; p < listStart[c + 1]! * 4; p++) source[p] = Math.min(offsets[c]! + p - listStart[c]! * 4, offsets[c + 1]! - 1);
  }
  return { listStart, source };
}

/** Writes values[from…from+dim) as padded row p of the blocks at heap[at…]. */
export function writeRow(heap: Float32Array, at: number, dim: number, p: number, values: ArrayLike<number>, from: number): void {
  const o = at + (p >> 2) * 4 * dim + (p & 3);
  for (let d = 0; d < dim; d++) heap[o + 4 * d] = values[from + d]!;
}
