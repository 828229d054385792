import { z } from 'zod';

/** The `builtin` section of a built-in model's manifest.json: everything but the weights. */
export const builtinParamsSchema = z.object({
  working: z.object({ width: z.number().int().min(16), height: z.number().int().min(16) }),
  features: z.discriminatedUnion('kind', [
    z.object({
      kind: z.literal('patch-pca'),
      stride: z.number().int().min(1),
      size: z.number().int().min(1).max(15),
      levels: z.number().int().min(1).max(6),
      components: z.number().int().min(1).max(64),
    }),
    z.object({
      kind: z.literal('onnx'),
      file: z.string().min(1),
      mean: z.tuple([z.number(), z.number(), z.number()]),
      std: z.tuple([z.number(), z.number(), z.number()]),
    }),
  ]),
  /** Each image brought to one mean grey level before its features (`light.ts`); absent in older models: off. */
  evenLight: z.boolean().optional(),
  /**
   * `round-part`: each image turned and shifted so that its round part stands centred at the angle
   * of the reference profile in tensor `align.profile` (`align.ts`); absent in older models: off.
   */
  align: z.literal('round-part').optional(),
  /**
   * The anomaly map (masks, pixel threshold) weighs run g of the feature's dim / length dimensions by
   * `mapWeights[g]` in the distance to the nearest normal patch (the one the image score measured).
   * Absent (older models, ONNX features): the map is the image score's map.
   */
  mapWeights: z.array(z.number().positive()).min(1).max(64).optional(),
  /** Gaussian smoothing of the patch-distance map, in grid cells. */
  sigma: z.number().min(0),
  /** Image score = mean of this fraction of the highest map cells. */
  topFraction: z.number().gt(0).max(1),
  index: z.object({ probes: z.number().int().min(1) }),
  calibration: z.object({
    /** Raw image score at the decision boundary (maps to anomaly_score 0.5). */
    rawThreshold: z.number(),
    /** Logistic scale of the score normalisation. */
    scale: z.number().positive(),
    /** Raw map value above which a pixel is painted in the mask. */
    pixelThreshold: z.number(),
  }),
  weights: z.string().min(1),
  tensors: z.array(z.object({ name: z.string(), length: z.number().int().min(0) })),
});
export type BuiltinParams = z.infer<typeof builtinParamsSchema>;
