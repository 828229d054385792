import type { RgbImage } from '../../../core/image.js';

/**
 * Resizes packed RGB888 with area averaging when shrinking and bilinear sampling when growing,
 * in plain typed arrays (the runtime must not depend on sharp). Separable: rows into a Float32
 * buffer, then each output row accumulated from its source rows and rounded straight to bytes.
 */
export function resizeRgb(src: RgbImage, width: number, height: number): RgbImage {
  if (src.width === width && src.height === height) return src;
  const out = new Uint8Array(width * height * 3);
  resizePlanes(src.pixels, 3, src.width, src.height, width, height, (row, y) => {
    const o = y * row.length;
    for (let i = 0; i < row.length; i++) out[o + i] = Math.min(255, Math.max(0, Math.round(row[i]!)));
  });
  return { width, height, pixels: out };
}

/** Resizes a single-channel float map (e.g. an anomaly map) to width × height. */
export function resizePlane(src: Float32Array, sw: number, sh: number, width: number, height: number): Float32Array {
  if (sw === width && sh === height) return src;
  const out = new Float32Array(width * height);
  resizePlanes(src, 1, sw, sh, width, height, (row, y) => out.set(row, y * width));
  return out;
}

/**
 * The separable resize: `emit(row, y)` receives each output row (channels interleaved, reused
 * buffer). Float32 intermediates, taps summed in source order.
 */
function resizePlanes(src: ArrayLike<number>, channels: number, sw: number, sh: number, dw: number, dh: number, emit: (row: Float32Array, y: number) => void): void {
  const h = taps(sw, dw);
  const tmp = new Float32Array(dw * sh * channels);
  const span = h.span;
  for (let y = 0; y < sh; y++) {
    const rowIn = y * sw * channels;
    const rowOut = y * dw * channels;
    for (let x = 0; x < dw; x++) {
      const start = rowIn + h.start[x]! * channels;
      const count = h.count[x]!;
      const wo = x * span;
      if (channels === 3) {
        // RGB: one pass over the taps for all three channels.
        let r = 0;
        let g = 0;
        let b = 0;
        for (let k = 0, p = start; k < count; k++, p += 3) {
          const w = h.weight[wo + k]!;
          r += w * src[p]!;
          g += w * src[p + 1]!;
          b += w * src[p + 2]!;
        }
        tmp[rowOut + x * 3] = r;
        tmp[rowOut + x * 3 + 1] = g;
        tmp[rowOut + x * 3 + 2] = b;
        continue;
      }
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let k = 0; k < count; k++) acc += h.weight[wo + k]! * src[start + k * channels + c]!;
        tmp[rowOut + x * channels + c] = acc;
      }
    }
  }
  const v = taps(sh, dh);
  const stride = dw * channels;
  const row = new Float32Array(stride);
  for (let y = 0; y < dh; y++) {
    row.fill(0);
    const count = v.count[y]!;
    for (let k = 0; k < count; k++) {
      const wk = v.weight[y * v.span + k]!;
      const r = (v.start[y]! + k) * stride;
      for (let i = 0; i < stride; i++) row[i]! += wk * tmp[r + i]!;
    }
    emit(row, y);
  }
}

/** Per output index: first source index, tap count and weights (`weight[i * span + k]`). */
interface Taps {
  readonly start: Int32Array;
  readonly count: Int32Array;
  readonly weight: Float32Array;
  readonly span: number;
}

/** Frames arrive at a few fixed sizes: the tap tables of recent size pairs are kept. */
const plans = new Map<string, Taps>();

/** Box filter when shrinking (each output averages the source interval it covers), triangle when growing. */
function taps(srcLen: number, dstLen: number): Taps {
  const key = `${srcLen}>${dstLen}`;
  const cached = plans.get(key);
  if (cached) return cached;
  const scale = srcLen / dstLen;
  const span = scale >= 1 ? Math.ceil(scale) + 1 : 2;
  const plan: Taps = { start: new Int32Array(dstLen), count: new Int32Array(dstLen), weight: new Float32Array(dstLen * span), span };
  for (let i = 0; i < dstLen; i++) {
    if (scale >= 1) {
      const a = i * scale;
      const b = a + scale;
      const start = Math.floor(a);
      const end = Math.min(srcLen, Math.ceil(b));
      plan.start[i] = start;
      plan.count[i] = end - start;
      for (let s = start; s < end; s++) plan.weight[i * span + s - start] = (Math.min(b, s + 1) - Math.max(a, s)) / scale;
    } else {
      const center = (i + 0.5) * scale - 0.5;
      const left = Math.max(0, Math.min(srcLen - 1, Math.floor(center)));
      const right = Math.min(srcLen - 1, left + 1);
      const f = Math.max(0, Math.min(1, center - left));
      plan.start[i] = left;
      plan.count[i] = right === left ? 1 : 2;
      plan.weight[i * span] = right === left ? 1 : 1 - f;
      plan.weight[i * span + 1] = right === left ? 0 : f;
    }
  }
  if (plans.size >= 16) plans.delete(plans.keys().next().value!);
  plans.set(key, plan);
  return plan;
}

/** The working size for a source size: longest side `longest`, aspect kept, even sides. */
export function workingSize(width: number, height: number, longest: number): { width: number; height: number } {
  const s = longest / Math.max(width, height);
  return { width: Math.max(16, Math.round((width * s) / 2) * 2), height: Math.max(16, Math.round((height * s) / 2) * 2) };
}
