import { z } from 'zod';
import { plcModbusSchema } from './plc-modbus.js';
import { plcOpcuaSchema } from './plc-opcua.js';
import { takesPartIdAnnouncements } from './sources.js';

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
 * triggers (`trigger.enabled`), or one fired by its own line whose part ids the trigger announces; else
 * its edges would start nothing.
 */
export function plcCameraProblems(
  plc: PlcConfig,
  cameras: ReadonlyArray<{ id: string; source: { type: string }; trigger?: { enabled: boolean } | undefined }>,
): Array<[Array<string | number>, string]> {
  const problems: Array<[Array<string | number>, string]> = [];
  for (const protocol of ['modbus', 'opcua'] as const) {
    (plc[protocol]?.triggers ?? []).forEach((trigger, i) => {
      const path = ['plc', protocol, 'triggers', i, 'camera'];
      const camera = cameras.find((c) => c.id === trigger.camera);
      // Modbus reads the id from `partId` registers, OPC UA from `partIdNodeId`
      const { partId, partIdNodeId } = trigger as { partId?: unknown; partIdNodeId?: unknown };
      if (!camera) problems.push([path, `no camera "${trigger.camera}" in cameras`]);
      else if (takesPartIdAnnouncements(camera)) {
        if (partId === undefined && partIdNodeId === undefined) problems.push([path, `camera "${trigger.camera}" is fired by its own line: a trigger for it announces a part id, so say where the id is read`]);
      } else if (camera.trigger?.enabled !== true) problems.push([path, `camera "${trigger.camera}" does not take triggers: set its trigger.enabled`]);
    });
  }
  return problems;
}
