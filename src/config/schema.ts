import { z } from 'zod';
import { identifier } from './slices/common.js';
import { camerasSchema } from './slices/sources.js';
import { decideSchema } from './slices/decide.js';
import { evidenceSchema } from './slices/evidence.js';
import { inferenceSchema } from './slices/inference.js';
import { loggingSchema } from './slices/logging.js';
import { masksSchema } from './slices/masks.js';
import { modelServerSchema } from './slices/model-server.js';
import { outboxSchema } from './slices/outbox.js';
import { plcCameraProblems, plcSchema } from './slices/plc.js';
import { publishSchema } from './slices/publish.js';
import { statusSchema } from './slices/status.js';

/**
 * The single source of truth for configuration. TypeScript types are inferred from it,
 * `lookout-edge config schema` prints it as JSON Schema, and the Greengrass recipes'
 * DefaultConfiguration is validated against it by a test. Unknown keys are errors everywhere.
 */
export const configSchema = z.strictObject({
  /** The IoT thing name; under Greengrass it comes from AWS_IOT_THING_NAME. */
  thingName: identifier.default('lookout-edge-local'),
  logging: loggingSchema,
  inference: inferenceSchema,
  cameras: camerasSchema,
  decide: decideSchema,
  masks: masksSchema,
  outbox: outboxSchema,
  publish: publishSchema,
  status: statusSchema,
  modelServer: modelServerSchema,
  evidence: evidenceSchema,
  plc: plcSchema,
}).superRefine((config, ctx) => {
  for (const [path, message] of plcCameraProblems(config.plc, config.cameras)) ctx.addIssue({ code: 'custom', path, message });
});

export type Config = z.infer<typeof configSchema>;
/** What a user may write: every key optional where a default exists. */
export type ConfigInput = z.input<typeof configSchema>;

export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

export type { CameraConfig, SourceConfig } from './slices/sources.js';
export type { DecideConfig } from './slices/decide.js';
export type { EvidenceConfig } from './slices/evidence.js';
export type { InferenceConfig } from './slices/inference.js';
export type { LoggingConfig } from './slices/logging.js';
export type { MasksConfig } from './slices/masks.js';
export type { ModelServerConfig } from './slices/model-server.js';
export type { OutboxConfig } from './slices/outbox.js';
export type { PlcConfig } from './slices/plc.js';
export type { PlcModbusConfig } from './slices/plc-modbus.js';
export type { PlcOpcuaConfig } from './slices/plc-opcua.js';
export type { PreprocessConfig } from './slices/preprocess.js';
export type { PublishConfig } from './slices/publish.js';
export type { StatusConfig } from './slices/status.js';
