import type { AnomalyClass } from '../../core/model.js';
import type { ModelClass } from '../runtime.js';
import { resizePlane } from './builtin/resize.js';

/**
 * Paints an anomaly map as a Lookout for Vision mask: RGB at the request's size, background black,
 * pixels above `threshold` in their class colour; and the per-class area fractions. `classOf` picks
 * the class index for a grid cell (defaults to the first class).
 */
export function paintMask(
  map: Float32Array,
  mapWidth: number,
  mapHeight: number,
  width: number,
  height: number,
  threshold: number,
  classes: readonly ModelClass[],
  classOf?: (cell: number) => number,
): { mask: { width: number; height: number; pixels: Uint8Array }; anomalies: AnomalyClass[] } {
  const up = resizePlane(map, mapWidth, mapHeight, width, height);
  const pixels = new Uint8Array(width * height * 3);
  const counts = new Float64Array(Math.max(1, classes.length));
  const rgb = classes.map((c) => {
    const v = parseInt(c.hexColor.slice(1), 16);
    return [(v >> 16) & 255, (v >> 8) & 255, v & 255] as const;
  });
  const sx = mapWidth / width;
  const sy = mapHeight / height;
  for (let y = 0; y < height; y++) {
    const cy = Math.min(mapHeight - 1, Math.floor(y * sy));
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!(up[i]! > threshold)) continue;
      const k = classOf ? classOf(cy * mapWidth + Math.min(mapWidth - 1, Math.floor(x * sx))) : 0;
      counts[k]!++;
      const c = rgb[k];
      if (!c) continue;
      pixels[i * 3] = c[0];
      pixels[i * 3 + 1] = c[1];
      pixels[i * 3 + 2] = c[2];
    }
  }
  const total = width * height;
  const anomalies: AnomalyClass[] = [];
  classes.forEach((c, k) => {
    if (counts[k]! > 0) anomalies.push({ name: c.name, hexColor: c.hexColor, totalPercentageArea: counts[k]! / total });
  });
  return { mask: { width, height, pixels }, anomalies };
}

/** Confidence in the verdict given: the normalised score for "anomalous", its complement for "normal". */
export function verdictConfidence(score: number, threshold: number): number {
  const s = Math.min(1, Math.max(0, score));
  return s >= threshold ? s : 1 - s;
}
