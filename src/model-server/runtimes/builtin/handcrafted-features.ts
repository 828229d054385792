import type { RgbImage } from '../../../core/image.js';
import type { FeatureMap } from './feature-map.js';

/**
 * Dense handcrafted patch descriptors, computed from the data alone (no pretrained weights):
 * per pixel, an opponent colour space (intensity, red-green, yellow-blue), the local intensity
 * energy, the Sobel gradient magnitude and a 4-bin unsigned orientation histogram weighted by
 * magnitude, and a local-contrast (centre minus surround) channel. Each is box-pooled with integral
 * images over square windows of several radii centred on a regular grid, giving a descriptor that
 * sees a crack's thin dark edge at the small scale and a missing part or a stain at the large one.
 */
export interface HandcraftedSpec {
  /** Grid step in working pixels. */
  readonly stride: number;
  /** Pooling window radii in working pixels, small to large. */
  readonly radii: readonly number[];
}

export const DEFAULT_SPEC: HandcraftedSpec = { stride: 4, radii: [2, 5, 11] };

/** Pixel channels pooled at each radius. */
const CHANNELS = 10;

export function handcraftedDim(spec: HandcraftedSpec): number {
  return spec.radii.length * CHANNELS;
}

export function handcraftedFeatures(img: RgbImage, spec: HandcraftedSpec = DEFAULT_SPEC): FeatureMap {
  const { width: w, height: h, pixels } = img;
  const n = w * h;
  const inten = new Float32Array(n);
  const rg = new Float32Array(n);
  const yb = new Float32Array(n);
  for (let i = 0, p = 0; i < n; i++, p += 3) {
    const r = pixels[p]! / 255;
    const g = pixels[p + 1]! / 255;
    const b = pixels[p + 2]! / 255;
    inten[i] = (r + g + b) / 3;
    rg[i] = r - g;
    yb[i] = (r + g) / 2 - b;
  }
  const planes: Float32Array[] = [inten, rg, yb, new Float32Array(n)];
  const energy = planes[3]!;
  for (let i = 0; i < n; i++) energy[i] = inten[i]! * inten[i]!;
  const mag = new Float32Array(n);
  const bins = [new Float32Array(n), new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  sobel(inten, w, h, mag, bins);
  const contrast = centreSurround(inten, w, h);
  planes.push(mag, ...bins, contrast);

  const integrals = planes.map((p) => integral(p, w, h));
  const gw = Math.max(1, Math.floor(w / spec.stride));
  const gh = Math.max(1, Math.floor(h / spec.stride));
  const dim = handcraftedDim(spec);
  const data = new Float32Array(gw * gh * dim);
  const half = spec.stride / 2;
  for (let gy = 0; gy < gh; gy++) {
    const cy = Math.floor(gy * spec.stride + half);
    for (let gx = 0; gx < gw; gx++) {
      const cx = Math.floor(gx * spec.stride + half);
      let o = (gy * gw + gx) * dim;
      for (const r of spec.radii) {
        const x0 = Math.max(0, cx - r);
        const y0 = Math.max(0, cy - r);
        const x1 = Math.min(w, cx + r + 1);
        const y1 = Math.min(h, cy + r + 1);
        const area = (x1 - x0) * (y1 - y0);
        const m = (k: number): number => boxSum(integrals[k]!, w + 1, x0, y0, x1, y1) / area;
        const mi = m(0);
        data[o++] = mi;
        data[o++] = m(1);
        data[o++] = m(2);
        data[o++] = Math.sqrt(Math.max(0, m(3) - mi * mi));
        data[o++] = m(4);
        data[o++] = m(5);
        data[o++] = m(6);
        data[o++] = m(7);
        data[o++] = m(8);
        data[o++] = m(9);
      }
    }
  }
  return { width: gw, height: gh, dim, data };
}

function sobel(src: Float32Array, w: number, h: number, mag: Float32Array, bins: Float32Array[]): void {
  const [b0, b1, b2, b3] = bins as [Float32Array, Float32Array, Float32Array, Float32Array];
  for (let y = 0; y < h; y++) {
    const ym = y > 0 ? y - 1 : 0;
    const yp = y < h - 1 ? y + 1 : h - 1;
    for (let x = 0; x < w; x++) {
      const xm = x > 0 ? x - 1 : 0;
      const xp = x < w - 1 ? x + 1 : w - 1;
      const a = src[ym * w + xm]!;
      const b = src[ym * w + x]!;
      const c = src[ym * w + xp]!;
      const d = src[y * w + xm]!;
      const f = src[y * w + xp]!;
      const g = src[yp * w + xm]!;
      const hh = src[yp * w + x]!;
      const k = src[yp * w + xp]!;
      const gx = c + 2 * f + k - a - 2 * d - g;
      const gy = g + 2 * hh + k - a - 2 * b - c;
      const i = y * w + x;
      const m = Math.sqrt(gx * gx + gy * gy);
      mag[i] = m;
      if (m < 1e-6) continue;
      // Unsigned orientation in [0, 4) bins of 45°, linearly split between the two nearest bins.
      let t = (Math.atan2(gy, gx) / Math.PI) * 4;
      if (t < 0) t += 4;
      if (t >= 4) t -= 4;
      const lo = Math.floor(t);
      const frac = t - lo;
      const hi = (lo + 1) & 3;
      const wl = m * (1 - frac);
      const wh = m * frac;
      if (lo === 0) b0[i] = wl; else if (lo === 1) b1[i] = wl; else if (lo === 2) b2[i] = wl; else b3[i] = wl;
      if (hi === 0) b0[i]! += wh; else if (hi === 1) b1[i]! += wh; else if (hi === 2) b2[i]! += wh; else b3[i]! += wh;
    }
  }
}

/** |pixel − mean of its 5×5 neighbourhood|: thin lines and specks stand out against smooth surfaces. */
function centreSurround(src: Float32Array, w: number, h: number): Float32Array {
  const ii = integral(src, w, h);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const y0 = Math.max(0, y - 2);
    const y1 = Math.min(h, y + 3);
    for (let x = 0; x < w; x++) {
      const x0 = Math.max(0, x - 2);
      const x1 = Math.min(w, x + 3);
      const mean = boxSum(ii, w + 1, x0, y0, x1, y1) / ((x1 - x0) * (y1 - y0));
      out[y * w + x] = Math.abs(src[y * w + x]! - mean);
    }
  }
  return out;
}

function integral(src: Float32Array, w: number, h: number): Float64Array {
  const W = w + 1;
  const out = new Float64Array(W * (h + 1));
  for (let y = 0; y < h; y++) {
    let row = 0;
    for (let x = 0; x < w; x++) {
      row += src[y * w + x]!;
      out[(y + 1) * W + x + 1] = out[y * W + x + 1]! + row;
    }
  }
  return out;
}

function boxSum(ii: Float64Array, W: number, x0: number, y0: number, x1: number, y1: number): number {
  return ii[y1 * W + x1]! - ii[y0 * W + x1]! - ii[y1 * W + x0]! + ii[y0 * W + x0]!;
}
