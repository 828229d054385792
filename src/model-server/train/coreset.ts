/**
 * Greedy k-centre coreset (as in PatchCore): repeatedly keep the vector farthest from everything
 * kept so far, so the reduced memory bank still covers every kind of normal patch, rare ones
 * included. Distances are measured on a fixed random projection to keep it fast; the kept vectors
 * are the originals. Deterministic for a given seed.
 */
export function greedyCoreset(bank: Float32Array, dim: number, keep: number, seed = 1, projectTo = 16): Int32Array {
  const n = bank.length / dim;
  if (keep >= n) return Int32Array.from({ length: n }, (_, i) => i);
  const pd = Math.min(projectTo, dim);
  const proj = projection(dim, pd, seed);
  const p = new Float32Array(n * pd);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < pd; j++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += bank[i * dim + d]! * proj[j * dim + d]!;
      p[i * pd + j] = s;
    }
  }
  const minDist = new Float32Array(n).fill(Infinity);
  const out = new Int32Array(keep);
  let current = mulberry(seed)() * n | 0;
  for (let k = 0; k < keep; k++) {
    out[k] = current;
    const co = current * pd;
    let far = 0;
    let next = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      const io = i * pd;
      for (let j = 0; j < pd; j++) {
        const x = p[io + j]! - p[co + j]!;
        s += x * x;
      }
      const m = s < minDist[i]! ? (minDist[i] = s) : minDist[i]!;
      if (m > far) {
        far = m;
        next = i;
      }
    }
    current = next;
  }
  return out;
}

/** The vectors at `indices`, packed. */
export function gather(bank: Float32Array, dim: number, indices: Int32Array): Float32Array {
  const out = new Float32Array(indices.length * dim);
  for (let k = 0; k < indices.length; k++) out.set(bank.subarray(indices[k]! * dim, (indices[k]! + 1) * dim), k * dim);
  return out;
}

function projection(dim: number, pd: number, seed: number): Float32Array {
  if (pd === dim) {
    const eye = new Float32Array(dim * dim);
    for (let d = 0; d < dim; d++) eye[d * dim + d] = 1;
    return eye;
  }
  const rand = mulberry(seed);
  const m = new Float32Array(pd * dim);
  for (let i = 0; i < m.length; i++) m[i] = gaussian(rand) / Math.sqrt(pd);
  return m;
}

/** A small seeded PRNG (mulberry32). */
export function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gaussian(rand: () => number): number {
  const u = Math.max(1e-12, rand());
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}
