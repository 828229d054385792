import type { RgbImage } from '../../../core/image.js';

/**
 * Part alignment for round parts that come at any rotation and slightly off centre: the part is
 * found as the foreground (the side of Otsu's threshold that the frame's border is not), its angle by matching its angular
 * profile (mean grey per angle in RINGS rings from the centre) against the model's reference
 * profile, and the image is resampled so that every part stands at the frame's centre at the
 * reference's angle. The memory bank then holds each place of the part at one place of the grid.
 */
export const ANGLES = 180;
export const RINGS = 3;
/** Ring bounds, as fractions of the part's radius. */
const RING_EDGES = [0.3, 0.55, 0.8, 1.1];
/** Neighbouring angle bins pooled into each bin of a profile. */
const SPREAD = 2;

export interface PartFrame {
  readonly cx: number;
  readonly cy: number;
  /** Radius of a disc of the foreground's area. */
  readonly radius: number;
  /** Share of the frame's border pixels that are foreground (a part clear of the border: near 0). */
  readonly borderShare: number;
}

function grey(img: RgbImage): Float32Array {
  const g = new Float32Array(img.width * img.height);
  const p = img.pixels;
  for (let i = 0; i < g.length; i++) g[i] = (p[i * 3]! + p[i * 3 + 1]! + p[i * 3 + 2]!) / 3;
  return g;
}

function otsu(g: Float32Array): number {
  const hist = new Float64Array(256);
  for (const v of g) hist[Math.min(255, Math.round(v))]!++;
  let total = 0;
  for (let i = 0; i < 256; i++) total += i * hist[i]!;
  let w0 = 0;
  let sum0 = 0;
  let best = 0;
  let at = 128;
  for (let t = 0; t < 256; t++) {
    w0 += hist[t]!;
    sum0 += t * hist[t]!;
    const w1 = g.length - w0;
    if (w0 === 0 || w1 === 0) continue;
    const between = w0 * w1 * (sum0 / w0 - (total - sum0) / w1) ** 2;
    if (between > best) {
      best = between;
      at = t;
    }
  }
  return at;
}

/** The part's centre and size; the frame's centre when there is no foreground to speak of. */
export function findPart(img: RgbImage, g = grey(img)): PartFrame {
  const t = otsu(g);
  // The part is the side of the threshold that the frame's border mostly is not (a dark part on
  // a bright table as well as a bright part on a dark one).
  const { width: w, height: h } = img;
  let bright = 0;
  for (let x = 0; x < w; x++) bright += (g[x]! > t ? 1 : 0) + (g[(h - 1) * w + x]! > t ? 1 : 0);
  for (let y = 1; y < h - 1; y++) bright += (g[y * w]! > t ? 1 : 0) + (g[y * w + w - 1]! > t ? 1 : 0);
  const border = 2 * (w + h) - 4;
  const partBright = bright <= border / 2;
  const borderShare = (partBright ? bright : border - bright) / border;
  let n = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if (g[y * img.width + x]! > t === partBright) {
        n++;
        sx += x;
        sy += y;
      }
    }
  }
  if (n < 16) return { cx: (img.width - 1) / 2, cy: (img.height - 1) / 2, radius: Math.min(img.width, img.height) / 2, borderShare: 1 };
  return { cx: sx / n, cy: sy / n, radius: Math.sqrt(n / Math.PI), borderShare };
}

/**
 * Mean grey per angle (ANGLES bins) in each of the RINGS rings, each ring centred on zero; from
 * every other pixel of every other row (a quarter of the cost, ample samples per bin).
 */
export function angularProfile(img: RgbImage, part: PartFrame, g = grey(img)): Float32Array {
  const sum = new Float64Array(RINGS * ANGLES);
  const count = new Float64Array(RINGS * ANGLES);
  const inner = RING_EDGES[0]! * part.radius;
  const outer = RING_EDGES[RINGS]! * part.radius;
  for (let y = Math.max(0, Math.floor(part.cy - outer)); y < Math.min(img.height, part.cy + outer); y += 2) {
    for (let x = Math.max(0, Math.floor(part.cx - outer)) & ~1; x < Math.min(img.width, part.cx + outer); x += 2) {
      const dx = x - part.cx;
      const dy = y - part.cy;
      const d2 = dx * dx + dy * dy;
      if (d2 < inner * inner || d2 >= outer * outer) continue;
      const r = Math.sqrt(d2) / part.radius;
      let ring = -1;
      for (let k = 0; k < RINGS; k++) if (r >= RING_EDGES[k]! && r < RING_EDGES[k + 1]!) ring = k;
      if (ring < 0) continue;
      const a = Math.floor(((Math.atan2(dy, dx) + Math.PI) / (2 * Math.PI)) * ANGLES) % ANGLES;
      sum[ring * ANGLES + a]! += g[y * img.width + x]!;
      count[ring * ANGLES + a]!++;
    }
  }
  // Each bin pools its neighbours within SPREAD bins, weighted by their samples: a small part's
  // inner ring has fewer pixels than bins, and empty bins would otherwise print the pixel grid's
  // pattern (which does not turn with the part) on the profile.
  const out = new Float32Array(RINGS * ANGLES);
  for (let k = 0; k < RINGS; k++) {
    const o = k * ANGLES;
    let mean = 0;
    for (let a = 0; a < ANGLES; a++) {
      let s = 0;
      let c = 0;
      for (let j = -SPREAD; j <= SPREAD; j++) {
        const b = o + ((a + j + ANGLES) % ANGLES);
        s += sum[b]!;
        c += count[b]!;
      }
      mean += out[o + a] = c > 0 ? s / c : 0;
    }
    mean /= ANGLES;
    for (let a = 0; a < ANGLES; a++) out[o + a]! -= mean;
  }
  return out;
}

/** The angle (radians) by which `profile` is turned from `reference`: the best circular correlation. */
export function angleTo(profile: Float32Array, reference: Float32Array): number {
  let best = -Infinity;
  let shift = 0;
  for (let s = 0; s < ANGLES; s++) {
    let acc = 0;
    for (let k = 0; k < RINGS; k++) {
      const o = k * ANGLES;
      for (let a = 0; a < ANGLES; a++) acc += profile[o + ((a + s) % ANGLES)]! * reference[o + a]!;
    }
    if (acc > best) {
      best = acc;
      shift = s;
    }
  }
  return (shift * 2 * Math.PI) / ANGLES;
}

/**
 * The image resampled (bilinear, edges repeated) so that the part's centre lands on the frame's
 * centre and the part is turned back by `angle`.
 */
export function alignPart(img: RgbImage, part: PartFrame, angle: number): RgbImage {
  const { width: w, height: h, pixels } = img;
  const out = new Uint8Array(pixels.length);
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const ox = (w - 1) / 2;
  const oy = (h - 1) / 2;
  const row = w * 3;
  let d = 0;
  for (let y = 0; y < h; y++) {
    // source coordinates advance by (c, s) per output pixel along a row
    let sx = -c * ox - s * (y - oy) + part.cx;
    let sy = -s * ox + c * (y - oy) + part.cy;
    for (let x = 0; x < w; x++, sx += c, sy += s, d += 3) {
      const px = sx < 0 ? 0 : sx > w - 1 ? w - 1 : sx;
      const py = sy < 0 ? 0 : sy > h - 1 ? h - 1 : sy;
      const x0 = px >= w - 1 ? w - 2 : px | 0;
      const y0 = py >= h - 1 ? h - 2 : py | 0;
      const fx = px - x0;
      const fy = py - y0;
      const a = y0 * row + x0 * 3;
      const b = a + row;
      for (let ch = 0; ch < 3; ch++) {
        const top = pixels[a + ch]! + (pixels[a + 3 + ch]! - pixels[a + ch]!) * fx;
        const bottom = pixels[b + ch]! + (pixels[b + 3 + ch]! - pixels[b + ch]!) * fx;
        out[d + ch] = top + (bottom - top) * fy + 0.5;
      }
    }
  }
  return { width: w, height: h, pixels: out };
}

/** Aligns `img` to `reference` (an angular profile): the whole inference-time step. */
export function alignToReference(img: RgbImage, reference: Float32Array): { image: RgbImage; part: PartFrame; angle: number } {
  const g = grey(img);
  const part = findPart(img, g);
  const angle = angleTo(angularProfile(img, part, g), reference);
  return { image: alignPart(img, part, angle), part, angle };
}

/**
 * A grid map computed on the aligned image, resampled (bilinear, edges repeated) back onto the
 * grid of the frame as it came, so masks and pixel scores fall where the defect is in the frame.
 */
export function alignedMapToFrame(map: Float32Array, w: number, h: number, size: { width: number; height: number }, part: PartFrame, angle: number): Float32Array {
  const out = new Float32Array(w * h);
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const ox = (size.width - 1) / 2;
  const oy = (size.height - 1) / 2;
  const sx = size.width / w;
  const sy = size.height / h;
  for (let gy = 0; gy < h; gy++) {
    for (let gx = 0; gx < w; gx++) {
      // the cell's centre in the frame, then where alignPart put that point
      const dx = (gx + 0.5) * sx - part.cx;
      const dy = (gy + 0.5) * sy - part.cy;
      const ax = Math.min(w - 1, Math.max(0, (c * dx + s * dy + ox) / sx - 0.5));
      const ay = Math.min(h - 1, Math.max(0, (-s * dx + c * dy + oy) / sy - 0.5));
      const x0 = Math.min(Math.max(0, w - 2), Math.floor(ax));
      const y0 = Math.min(Math.max(0, h - 2), Math.floor(ay));
      const x1 = Math.min(w - 1, x0 + 1);
      const y1 = Math.min(h - 1, y0 + 1);
      const fx = ax - x0;
      const fy = ay - y0;
      const top = map[y0 * w + x0]! * (1 - fx) + map[y0 * w + x1]! * fx;
      const bottom = map[y1 * w + x0]! * (1 - fx) + map[y1 * w + x1]! * fx;
      out[gy * w + gx] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/**
 * A reference profile from training images: the first image's, then the mean of all images'
 * profiles turned onto it (so no single part's blemishes define the angle).
 */
export function referenceProfile(images: readonly RgbImage[]): Float32Array {
  const first = angularProfile(images[0]!, findPart(images[0]!));
  const mean = new Float32Array(first.length);
  for (const img of images) {
    const p = angularProfile(img, findPart(img));
    const shift = Math.round((angleTo(p, first) * ANGLES) / (2 * Math.PI));
    for (let k = 0; k < RINGS; k++) for (let a = 0; a < ANGLES; a++) mean[k * ANGLES + a]! += p[k * ANGLES + ((a + shift) % ANGLES)]! / images.length;
  }
  return mean;
}

/** The default decision (training without `align` either way): align when both hold. */
export const MAX_RESULTANT = 0.5;
export const MAX_BORDER_SHARE = 0.1;

/**
 * Whether training images show parts worth aligning: parts clear of the frame's border (median
 * border share under MAX_BORDER_SHARE: not a surface filling the frame) that come at varying
 * angles (the mean resultant length of their angles to the reference under MAX_RESULTANT: about 1
 * for parts in one pose, near 0 for parts at any angle).
 */
export function alignmentWorthwhile(images: readonly RgbImage[], reference: Float32Array): { align: boolean; resultant: number; borderShare: number } {
  let c = 0;
  let s = 0;
  const shares: number[] = [];
  for (const img of images) {
    const g = grey(img);
    const part = findPart(img, g);
    const angle = angleTo(angularProfile(img, part, g), reference);
    c += Math.cos(angle);
    s += Math.sin(angle);
    shares.push(part.borderShare);
  }
  const resultant = Math.hypot(c, s) / Math.max(1, images.length);
  const borderShare = shares.sort((a, b) => a - b)[Math.floor(shares.length / 2)] ?? 1;
  return { align: resultant < MAX_RESULTANT && borderShare < MAX_BORDER_SHARE, resultant, borderShare };
}
