import type { PlcOpcuaConfig } from '../../config/schema.js';
import type { Verdict } from '../../core/verdict.js';

/** OPC UA built-in data types (Part 6 §5.1.2) a verdict node may have; the ids are the DataType node ids in namespace 0. */
export const BUILTIN = { Boolean: 1, SByte: 2, Byte: 3, Int16: 4, UInt16: 5, Int32: 6, UInt32: 7, Float: 10, Double: 11, String: 12, DateTime: 13 } as const;
export type BuiltinName = keyof typeof BUILTIN;
const NAMES = new Map<number, BuiltinName>(Object.entries(BUILTIN).map(([name, id]) => [id, name as BuiltinName]));

export type VerdictField = 'outcome' | 'score' | 'partId' | 'timestamp' | 'camera';
export const VERDICT_FIELDS: readonly VerdictField[] = ['outcome', 'score', 'partId', 'timestamp', 'camera'];

/** The outcome as a number, for Int/UInt nodes: 0 is left for "no verdict yet". */
export const OUTCOME_CODES = { pass: 1, reject: 2, hold: 3 } as const;

export interface NodeValue {
  readonly field: VerdictField;
  readonly nodeId: string;
  readonly dataType: BuiltinName;
  readonly value: boolean | number | string | Date;
}

export function builtinName(dataTypeId: number): BuiltinName | undefined {
  return NAMES.get(dataTypeId);
}

/**
 * The values one verdict writes, in field order, each converted to its node's data type: outcome as
 * text (`pass`/`reject`/`hold`), a number (OUTCOME_CODES) or a Boolean (true = reject); score (the anomaly
 * score, else the confidence, else -1) as Float/Double; part id and camera as text (a numeric part id on a
 * numeric node as that number, else 0); timestamp (decidedAt) as DateTime, ISO text or epoch milliseconds.
 * A field whose node has a type we cannot express is left out (`typesOf` omits it).
 */
export function verdictValues(verdict: Verdict, nodes: PlcOpcuaConfig['verdict'], typesOf: (field: VerdictField) => BuiltinName | undefined): NodeValue[] {
  const values: NodeValue[] = [];
  for (const field of VERDICT_FIELDS) {
    const nodeId = nodes[field];
    const dataType = nodeId === undefined ? undefined : typesOf(field);
    if (nodeId === undefined || dataType === undefined) continue;
    const value = convert(field, verdict, dataType);
    if (value !== undefined) values.push({ field, nodeId, dataType, value });
  }
  return values;
}

function convert(field: VerdictField, v: Verdict, type: BuiltinName): NodeValue['value'] | undefined {
  const numeric = type !== 'Boolean' && type !== 'String' && type !== 'DateTime';
  switch (field) {
    case 'outcome':
      return type === 'String' ? v.outcome : type === 'Boolean' ? v.outcome === 'reject' : numeric ? OUTCOME_CODES[v.outcome] : undefined;
    case 'score': {
      const score = v.anomalyScore ?? v.confidence ?? -1;
      return type === 'Float' || type === 'Double' ? score : type === 'String' ? String(score) : undefined;
    }
    case 'partId':
    case 'camera': {
      const text = field === 'partId' ? (v.partId ?? '') : v.cameraId;
      if (type === 'String') return text;
      return numeric ? (/^\d{1,9}$/.test(text) ? Number(text) : 0) : undefined;
    }
    case 'timestamp':
      return type === 'DateTime' ? new Date(v.decidedAt) : type === 'String' ? new Date(v.decidedAt).toISOString() : type === 'Double' ? v.decidedAt : undefined;
  }
}
