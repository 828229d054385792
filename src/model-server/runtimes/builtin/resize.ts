import type { RgbImage } from '../../../core/image.js';

/**
 * Resizes packed RGB888 with area averaging when shrinking and bilinear sampling when growing,
 * in plain typed arrays (the runtime must not depend on sharp). Separable: rows then columns.
 */
export function resizeRgb(src: RgbImage, width: number, height: number): RgbImage {
  if (src.width === width && src.height === height) return src;
  const planes = resizePlanes(src.pixels, 3, src.width, src.height, width, height);
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < out.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(planes[i]!)));
  return { width, height, pixels: out };
}

/** Resizes a single-channel float map (e.g. an anomaly map) to width × height. */
export function resizePlane(src: Float32Array, sw: number, sh: number, width: number, height: number): Float32Array {
  if (sw === width && sh === height) return src;
  return resizePlanes(src, 1, sw, sh, width, height);
}

function resizePlanes(src: ArrayLike<number>, channels: number, sw: number, sh: number, dw: number, dh: number): Float32Array {
  const tmp = new Float32Array(dw * sh * channels);
  const horizontal = weights(sw, dw);
  for (let y = 0; y < sh; y++) {
    const rowIn = y * sw * channels;
    const rowOut = y * dw * channels;
    for (let x = 0; x < dw; x++) {
      const { start, w } = horizontal[x]!;
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let k = 0; k < w.length; k++) acc += w[k]! * src[rowIn + (start + k) * channels + c]!;
        tmp[rowOut + x * channels + c] = acc;
      }
    }
  }
  const out = new Float32Array(dw * dh * channels);
  const vertical = weights(sh, dh);
  const stride = dw * channels;
  for (let y = 0; y < dh; y++) {
    const { start, w } = vertical[y]!;
    const o = y * stride;
    for (let k = 0; k < w.length; k++) {
      const wk = w[k]!;
      const r = (start + k) * stride;
      for (let i = 0; i < stride; i++) out[o + i]! += wk * tmp[r + i]!;
    }
  }
  return out;
}

interface Tap {
  readonly start: number;
  readonly w: Float32Array;
}

/** Per output index: the first source index and its weights (box filter down, triangle up). */
function weights(srcLen: number, dstLen: number): Tap[] {
  const scale = srcLen / dstLen;
  const taps: Tap[] = [];
  for (let i = 0; i < dstLen; i++) {
    if (scale >= 1) {
      const a = i * scale;
      const b = a + scale;
      const start = Math.floor(a);
      const end = Math.min(srcLen, Math.ceil(b));
      const w = new Float32Array(end - start);
      for (let s = start; s < end; s++) w[s - start] = (Math.min(b, s + 1) - Math.max(a, s)) / scale;
      taps.push({ start, w });
    } else {
      const center = (i + 0.5) * scale - 0.5;
      const left = Math.max(0, Math.min(srcLen - 1, Math.floor(center)));
      const right = Math.min(srcLen - 1, left + 1);
      const f = Math.max(0, Math.min(1, center - left));
      taps.push(right === left ? { start: left, w: Float32Array.of(1) } : { start: left, w: Float32Array.of(1 - f, f) });
    }
  }
  return taps;
}

/** The working size for a source size: longest side `longest`, aspect kept, even sides. */
export function workingSize(width: number, height: number, longest: number): { width: number; height: number } {
  const s = longest / Math.max(width, height);
  return { width: Math.max(16, Math.round((width * s) / 2) * 2), height: Math.max(16, Math.round((height * s) / 2) * 2) };
}
