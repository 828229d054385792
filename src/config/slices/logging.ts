import { z } from 'zod';

export const loggingSchema = z
  .strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .prefault({});
export type LoggingConfig = z.infer<typeof loggingSchema>;
