import { z } from 'zod';
import { hostAddress, port, secret } from './common.js';

export const statusSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    host: hostAddress.default('127.0.0.1'),
    port: port.default(8080),
    /** Required when `host` is not a loopback address. */
    token: secret.optional(),
  })
  .prefault({});
export type StatusConfig = z.infer<typeof statusSchema>;
