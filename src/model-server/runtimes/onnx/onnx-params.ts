import { z } from 'zod';
import { executionProvidersSchema } from '../../../config/slices/model-server.js';

const triple = z.tuple([z.number(), z.number(), z.number()]);

/**
 * The `onnx` section of an ONNX model's manifest.json. Anything absent falls back to the graph's
 * metadata_props (keys `image_threshold`, `pixel_threshold`, `min`, `max`, `mean`, `std`, `map_output`,
 * `score_output`), then to defaults (ImageNet mean/std, outputs detected by rank).
 */
export const onnxParamsSchema = z.object({
  model: z.string().min(1).default('model.onnx'),
  input: z.string().min(1).optional(),
  outputs: z.object({ map: z.string().min(1).optional(), score: z.string().min(1).optional() }).default({}),
  mean: triple.optional(),
  std: triple.optional(),
  /** anomalib min-max normalisation: score' = clamp((score − threshold) / (max − min) + 0.5, 0, 1). */
  normalization: z
    .object({ imageThreshold: z.number(), pixelThreshold: z.number().optional(), min: z.number(), max: z.number() })
    .refine((n) => n.max > n.min, 'max must exceed min')
    .optional(),
  /** Raw map value above which a pixel is painted when no normalisation is used. */
  pixelThreshold: z.number().optional(),
  executionProviders: executionProvidersSchema.optional(),
});
export type OnnxParams = z.infer<typeof onnxParamsSchema>;

export const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

/** Fills what the manifest leaves out from the graph's metadata_props. */
export function withMetadata(p: OnnxParams, meta: Readonly<Record<string, string>>): OnnxParams {
  const num = (k: string): number | undefined => (meta[k] !== undefined && Number.isFinite(Number(meta[k])) ? Number(meta[k]) : undefined);
  const arr = (k: string): [number, number, number] | undefined => {
    try {
      const v: unknown = JSON.parse(meta[k] ?? 'null');
      return Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number') ? (v as [number, number, number]) : undefined;
    } catch {
      return undefined;
    }
  };
  const it = num('image_threshold');
  const mn = num('min');
  const mx = num('max');
  const pt = num('pixel_threshold');
  const normalization = p.normalization ?? (it !== undefined && mn !== undefined && mx !== undefined && mx > mn ? { imageThreshold: it, min: mn, max: mx, ...(pt !== undefined ? { pixelThreshold: pt } : {}) } : undefined);
  return {
    ...p,
    mean: p.mean ?? arr('mean'),
    std: p.std ?? arr('std'),
    outputs: { map: p.outputs.map ?? meta['map_output'], score: p.outputs.score ?? meta['score_output'] },
    ...(normalization ? { normalization } : {}),
  };
}
