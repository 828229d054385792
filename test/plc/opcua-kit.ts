import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlcOpcuaConfig } from '../../src/config/schema.js';
import { plcOpcuaSchema } from '../../src/config/slices/plc-opcua.js';
import type { Verdict, VerdictOutcome } from '../../src/core/verdict.js';

/** Verdict nodes of the test PLC (test/peers/opcua-server.ts), in its namespace 1. */
export const LINE1 = {
  outcome: 'ns=1;s=Line1.Outcome',
  score: 'ns=1;s=Line1.Score',
  partId: 'ns=1;s=Line1.PartId',
  timestamp: 'ns=1;s=Line1.Timestamp',
  camera: 'ns=1;s=Line1.Camera',
} as const;

/** A `plc.opcua` slice validated by its schema (without the cameras its triggers would be checked against). */
export function opcuaConfig(values: Record<string, unknown>): PlcOpcuaConfig {
  return plcOpcuaSchema.parse({ securityMode: 'None', verdict: LINE1, backoff: { initialMs: 50, maxMs: 500 }, ...values });
}

let seq = 0;
export function verdict(outcome: VerdictOutcome, extra: Partial<Verdict> = {}): Verdict {
  seq += 1;
  return {
    id: `v-${seq}`,
    frameId: `f-${seq}`,
    cameraId: 'cam1',
    partId: `P-${seq}`,
    modelComponent: 'm1',
    outcome,
    basis: 'model',
    isAnomalous: outcome === 'reject',
    anomalyScore: outcome === 'reject' ? 0.9 : 0.1,
    anomalies: [],
    capturedAt: Date.UTC(2026, 11, 5, 10, 0, 0) + seq,
    decidedAt: Date.UTC(2026, 11, 5, 10, 0, 1) + seq,
    timings: {},
    ...extra,
  };
}

export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
