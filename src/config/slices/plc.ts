import { z } from 'zod';
import { plcModbusSchema } from './plc-modbus.js';

/** PLC I/O: each protocol is off until its key is present (and then its client is loaded). */
export const plcSchema = z
  .strictObject({
    modbus: plcModbusSchema.optional(),
  })
  .prefault({});
export type PlcConfig = z.infer<typeof plcSchema>;
