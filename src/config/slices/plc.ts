import { z } from 'zod';
import { plcModbusSchema } from './plc-modbus.js';
import { plcOpcuaSchema } from './plc-opcua.js';

/** PLC I/O: each protocol is off until its key is present (and then its client is loaded). */
export const plcSchema = z
  .strictObject({
    modbus: plcModbusSchema.optional(),
    opcua: plcOpcuaSchema.optional(),
  })
  .prefault({});
export type PlcConfig = z.infer<typeof plcSchema>;

/**
 * Rules across slices, as `[path, message]`: a PLC trigger must name a configured camera that takes
 * triggers (`trigger.enabled`), or its edges would start nothing.
 */
export function plcCameraProblems(plc: PlcConfig, cameras: ReadonlyArray<{ id: string; trigger?: { enabled: boolean } | undefined }>): Array<[Array<string | number>, string]> {
  const problems: Array<[Array<string | number>, string]> = [];
  for (const protocol of ['modbus', 'opcua'] as const) {
    (plc[protocol]?.triggers ?? []).forEach((trigger, i) => {
      const camera = cameras.find((c) => c.id === trigger.camera);
      if (!camera) problems.push([['plc', protocol, 'triggers', i, 'camera'], `no camera "${trigger.camera}" in cameras`]);
      else if (camera.trigger?.enabled !== true) problems.push([['plc', protocol, 'triggers', i, 'camera'], `camera "${trigger.camera}" does not take triggers: set its trigger.enabled`]);
    });
  }
  return problems;
}
