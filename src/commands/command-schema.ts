import { z } from 'zod';
import { PART_ID_PATTERN, PART_ID_RULE } from '../core/frame.js';
import { identifier } from '../config/slices/common.js';

export const COMMANDS = ['set-threshold', 'pause', 'resume', 'snapshot', 'reload-model'] as const;
export type CommandName = (typeof COMMANDS)[number];

const transaction = z.string().min(1).max(128);

/** One remote command. `camera` is required by pause/resume/snapshot; set-threshold defaults it to `*` (all). */
export const commandRequestSchema = z
  .strictObject({
    transaction,
    command: z.enum(COMMANDS),
    camera: z.union([z.literal('*'), identifier]).optional(),
    /** A score threshold in [0,1]; null drops the override. */
    threshold: z.number().min(0).max(1).nullable().optional(),
    /** For `snapshot`: the part being inspected, carried into the verdict. */
    partId: z.string().regex(PART_ID_PATTERN, PART_ID_RULE).optional(),
  })
  .superRefine((req, ctx) => {
    const needsCamera = req.command === 'pause' || req.command === 'resume' || req.command === 'snapshot';
    if (needsCamera && (req.camera === undefined || req.camera === '*')) {
      ctx.addIssue({ code: 'custom', path: ['camera'], message: `${req.command} needs one camera id` });
    }
    if (req.command === 'set-threshold' && req.threshold === undefined) {
      ctx.addIssue({ code: 'custom', path: ['threshold'], message: 'set-threshold needs a threshold in [0,1] (or null to clear)' });
    }
  });
export type CommandRequest = z.infer<typeof commandRequestSchema>;

export type CommandResponse =
  | { readonly transaction: string | null; readonly ok: true; readonly result: unknown }
  | { readonly transaction: string | null; readonly ok: false; readonly error: { readonly code: string; readonly message: string } };

/** The transaction id of a request too broken to validate, when one can be read; echoed so callers can match. */
export function salvageTransaction(raw: unknown): string | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const t = (raw as Record<string, unknown>).transaction;
  return transaction.safeParse(t).success ? (t as string) : null;
}
