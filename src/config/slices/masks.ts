import { z } from 'zod';
import { byteSize } from './common.js';

export const masksSchema = z
  .strictObject({
    dir: z.string().min(1).default('.lookout-edge/masks'),
    quotaBytes: byteSize.default(512 * 1024 * 1024),
    /** At most this many files are kept (oldest deleted first), as with quotaBytes: the store indexes them in memory. */
    maxFiles: z.number().int().min(1).max(10_000_000).default(100_000),
    overlay: z.boolean().default(true),
    overlayQuality: z.number().int().min(1).max(100).default(80),
  })
  .prefault({});
export type MasksConfig = z.infer<typeof masksSchema>;
