import type { ModelClass } from '../runtime.js';
import type { SyntheticImage } from './synthetic.js';

/**
 * Synthetic cast metal parts, photographed top-down: a round grey casting (rim, a machined ring,
 * a raised hub with its bore, six bolt holes and a casting lug that make its orientation visible)
 * at an arbitrary rotation with slight position jitter, on a dark table, with a grainy cast surface
 * of its own on every part, fine concentric turning marks on the machined ring, directional light
 * of varying strength and sensor noise. Defects are small (0.2–2 % of the part's area) and each
 * of a different nature: pinholes (a few dark dots), a blow hole (a dark crater with a bright lip),
 * a burr (a bright sliver of metal past the rim) and an edge chip (a bite out of the rim).
 */
export const CAST_DEFECT_CLASSES: readonly ModelClass[] = [
  { name: 'pinholes', hexColor: '#D0021B' },
  { name: 'blowhole', hexColor: '#F5A623' },
  { name: 'burr', hexColor: '#7ED321' },
  { name: 'chip', hexColor: '#4A90E2' },
];

/** Smooth random field: bilinear interpolation of a `cells`×`cells` grid of uniform values in [-1, 1]. */
function valueNoise(rand: () => number, cells: number): (x: number, y: number) => number {
  const g = Float32Array.from({ length: (cells + 1) * (cells + 1) }, () => rand() * 2 - 1);
  return (x, y) => {
    const fx = Math.min(cells - 1e-6, Math.max(0, x * cells));
    const fy = Math.min(cells - 1e-6, Math.max(0, y * cells));
    const ix = Math.floor(fx);
    const iy = Math.floor(fy);
    const tx = fx - ix;
    const ty = fy - iy;
    const at = (a: number, b: number): number => g[b * (cells + 1) + a]!;
    return (at(ix, iy) * (1 - tx) + at(ix + 1, iy) * tx) * (1 - ty) + (at(ix, iy + 1) * (1 - tx) + at(ix + 1, iy + 1) * tx) * ty;
  };
}

interface CastDefect {
  readonly kind: number;
  /** Part-frame coordinates (u, v) in pixels: inside the defect? */
  hit(u: number, v: number): boolean;
}

/** A defect of 0.2–1.2 % of the part's area (radius R), placed in part coordinates. */
function makeDefect(kind: number, R: number, rand: () => number): CastDefect {
  const partArea = Math.PI * R * R;
  const area = (0.002 + rand() * 0.01) * partArea;
  const a = rand() * Math.PI * 2;
  if (kind === 0) {
    // pinholes: 2–4 dark dots close together on the cast surface
    const n = 2 + Math.floor(rand() * 3);
    const r = Math.sqrt(area / n / Math.PI);
    const at = (0.5 + rand() * 0.3) * R;
    const dots = Array.from({ length: n }, () => [at * Math.cos(a) + (rand() - 0.5) * 0.12 * R, at * Math.sin(a) + (rand() - 0.5) * 0.12 * R] as const);
    return { kind, hit: (u, v) => dots.some(([x, y]) => Math.hypot(u - x, v - y) < r) };
  }
  if (kind === 1) {
    // blow hole: one round crater
    const r = Math.sqrt(area / Math.PI);
    const at = (0.45 + rand() * 0.35) * R;
    const x = at * Math.cos(a);
    const y = at * Math.sin(a);
    return { kind, hit: (u, v) => Math.hypot(u - x, v - y) < r };
  }
  // burr: a thin sliver past the rim; chip: a bite into the rim. Both along an arc of the rim.
  const depth = kind === 2 ? 0.035 * R + rand() * 0.03 * R : 0.05 * R + rand() * 0.05 * R;
  const arc = Math.min(Math.PI / 5, area / (depth * R));
  return {
    kind,
    hit: (u, v) => {
      const r = Math.hypot(u, v);
      const d = Math.abs(((Math.atan2(v, u) - a + 3 * Math.PI) % (2 * Math.PI)) - Math.PI);
      if (d > arc / 2) return false;
      // rounded ends: the depth tapers to nothing at the arc's ends
      const t = depth * Math.sqrt(Math.max(0, 1 - ((2 * d) / arc) ** 2));
      return kind === 2 ? r >= R && r < R + t : r < R && r > R - t;
    },
  };
}

export function renderCastPart(size: number, rand: () => number, defect?: number): SyntheticImage {
  const w = size;
  const h = size;
  const px = new Uint8Array(w * h * 3);
  const mask = new Uint8Array(w * h);
  const cx = w / 2 + (rand() - 0.5) * 0.06 * w;
  const cy = h / 2 + (rand() - 0.5) * 0.06 * h;
  const angle = rand() * Math.PI * 2;
  const light = 0.85 + rand() * 0.3;
  const lightDir = rand() * Math.PI * 2;
  const R = 0.4 * size;
  const grain = valueNoise(rand, Math.max(8, Math.round(size / 6)));
  const mottle = valueNoise(rand, 5);
  const table = valueNoise(rand, 12);
  const def = defect === undefined ? undefined : makeDefect(defect, R, rand);
  const holes = Array.from({ length: 6 }, (_, k) => [0.62 * R * Math.cos((k * Math.PI) / 3), 0.62 * R * Math.sin((k * Math.PI) / 3)] as const);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const dx = x - cx;
      const dy = y - cy;
      // part frame: the part's own coordinates, whatever its rotation on the line
      const u = Math.cos(angle) * dx + Math.sin(angle) * dy;
      const v = -Math.sin(angle) * dx + Math.cos(angle) * dy;
      const r = Math.hypot(u, v);
      const lug = u > 0 && Math.abs(v) < 0.07 * R && r < 1.06 * R;
      let inPart = (r <= R || lug) && r >= 0.14 * R && !holes.some(([hx, hy]) => Math.hypot(u - hx, v - hy) < 0.065 * R);
      let cls = 0;
      if (def?.hit(u, v)) {
        cls = def.kind + 1;
        if (def.kind === 2) inPart = true;
        if (def.kind === 3) inPart = false;
      }
      const shade = light * (1 + 0.15 * ((dx * Math.cos(lightDir) + dy * Math.sin(lightDir)) / w));
      let g: number;
      if (inPart) {
        // cast surface: coarse mottling and fine grain; a machined ring with turning marks; a raised hub
        g = 150 + 12 * mottle(x / w, y / h) + 9 * grain(x / w, y / h);
        if (r > 0.38 * R && r < 0.5 * R) g = 178 + 5 * Math.sin(r * 2.2) + 3 * grain(y / h, x / w);
        if (r < 0.28 * R) g = 165 + 8 * grain(x / w, y / h);
        if (Math.abs(r - 0.28 * R) < 1.2 || Math.abs(r - R) < 1.2) g -= 35; // edges cast a thin shadow line
        if (cls === 1) g = 95 + 25 * rand();
        if (cls === 2) g = 90 + 30 * grain(u / R, v / R);
        if (cls === 3) g = 195 + 15 * rand();
      } else {
        g = 38 + 6 * table(x / w, y / h);
      }
      mask[i] = cls;
      const base = g * shade;
      px[i * 3] = clamp(base + (rand() - 0.5) * 12);
      px[i * 3 + 1] = clamp(base + 1 + (rand() - 0.5) * 12);
      px[i * 3 + 2] = clamp(base + 3 + (rand() - 0.5) * 12);
    }
  }
  if (def?.kind === 1) lip(px, mask, w, h);
  return { image: { width: w, height: h, pixels: px }, mask, ...(def ? { defect: CAST_DEFECT_CLASSES[def.kind]! } : {}) };
}

/** A blow hole's bright lip: the pixels just around the crater lightened. */
function lip(px: Uint8Array, mask: Uint8Array, w: number, h: number): void {
  const near = new Uint8Array(w * h);
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      if (mask[i] === 0 && (mask[i - 1] || mask[i + 1] || mask[i - w] || mask[i + w])) near[i] = 1;
    }
  }
  for (let i = 0; i < near.length; i++) {
    if (!near[i]) continue;
    mask[i] = 2;
    for (let c = 0; c < 3; c++) px[i * 3 + c] = clamp(px[i * 3 + c]! + 30);
  }
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}
