import { z } from 'zod';
import { byteSize, positiveInt } from './common.js';

export const roiSchema = z.strictObject({
  left: z.number().int().min(0),
  top: z.number().int().min(0),
  width: positiveInt,
  height: positiveInt,
});

export const preprocessSchema = z
  .strictObject({
    roi: roiSchema.optional(),
    /** Model input size; when absent the frame (after ROI) is sent at its own size. */
    width: z.number().int().min(64).max(4096).optional(),
    height: z.number().int().min(64).max(4096).optional(),
    /** fill: stretch to the size; fit: keep aspect ratio and pad with `padColor`. */
    resize: z.enum(['fill', 'fit']).default('fill'),
    padColor: z.string().regex(/^#[0-9A-Fa-f]{6}$/, 'a #RRGGBB colour').default('#000000'),
    /** Decompression-bomb guard passed to sharp's limitInputPixels. */
    maxInputPixels: positiveInt.default(50_000_000),
    maxInputBytes: byteSize.default(64 * 1024 * 1024),
  })
  .prefault({});
export type PreprocessConfig = z.infer<typeof preprocessSchema>;
