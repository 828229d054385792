import type { ModelClass } from '../runtime.js';

/**
 * Turns an RGBA mask into a class-index map (0 = background, i + 1 = classes[i]). Accepts both
 * conventions seen in Lookout for Vision data: white or black background, RGB or RGBA (fully
 * transparent pixels are background), palettes already expanded by the decoder. A pixel belongs to
 * the class whose colour is nearest, when within `tolerance` per channel (anti-aliased edges).
 */
export function decodeMask(rgba: Uint8Array, classes: readonly ModelClass[], tolerance = 48): Uint8Array {
  const n = rgba.length / 4;
  const out = new Uint8Array(n);
  const cols = classes.map((c) => hexToRgb(c.hexColor));
  const anyColour = cols.length === 0;
  for (let i = 0; i < n; i++) {
    const r = rgba[i * 4]!;
    const g = rgba[i * 4 + 1]!;
    const b = rgba[i * 4 + 2]!;
    const a = rgba[i * 4 + 3]!;
    if (a < 128) continue;
    if (anyColour) {
      // No colour map: anything that is neither black nor white is a defect.
      const isBlack = r < 16 && g < 16 && b < 16;
      const isWhite = r > 239 && g > 239 && b > 239;
      if (!isBlack && !isWhite) out[i] = 1;
      continue;
    }
    let best = tolerance + 1;
    let arg = 0;
    for (let c = 0; c < cols.length; c++) {
      const [cr, cg, cb] = cols[c]!;
      const d = Math.max(Math.abs(r - cr), Math.abs(g - cg), Math.abs(b - cb));
      if (d < best) {
        best = d;
        arg = c + 1;
      }
    }
    out[i] = arg;
  }
  return out;
}

export function hexToRgb(hex: string): [number, number, number] {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}
