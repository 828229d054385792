import { z } from 'zod';
import { durationMs, hostAddress, identifier, port, positiveInt } from './common.js';

/** A Modbus data address (0-based, as on the wire: coil 00001 of a PLC's manual is address 0). */
const address = z.number().int().min(0).max(65_535);
const word = z.number().int().min(0).max(65_535);

/** The reject output: one pulse on a coil per reject verdict, in order (never merged; dropped only from a full queue or past maxAgeMs). */
const rejectPulseSchema = z.strictObject({
  coil: address,
  /** How long the coil stays on. */
  pulseMs: durationMs.min(1).max(60_000).default(200),
  /** How long it stays off before the next pulse, so the PLC sees every falling edge (at least one PLC scan). */
  gapMs: durationMs.max(60_000).default(20),
  /** The outcomes that pulse. A fail-safe verdict pulses when its outcome is one of these. */
  outcomes: z.array(z.enum(['reject', 'hold'])).min(1).default(['reject']),
  /** The cameras whose verdicts pulse; all when absent. */
  cameras: z.array(identifier).min(1).optional(),
  /**
   * A pulse not started this long after its verdict was decided (the PLC was down or slow) is dropped and
   * counted as expired: the part is past the gate, and a late pulse would reject another one. Handshakes
   * carry the part id and are always delivered.
   */
  maxAgeMs: durationMs.min(1).max(3_600_000).default(2_000),
});

/**
 * The verdict handshake: one write of four holding registers from `register` per verdict (one
 * request, so the PLC never reads half of one): code, part id (high word, low word), sequence.
 * The PLC acts when the sequence changes (1-65535, wrapping past 0).
 */
const handshakeSchema = z.strictObject({
  register: z.number().int().min(0).max(65_532),
  /** Codes written for each outcome; `error` when the fail-safe decided (no model verdict). */
  codes: z
    .strictObject({
      pass: word.default(1),
      reject: word.default(2),
      hold: word.default(3),
      error: word.default(4),
    })
    .prefault({}),
  cameras: z.array(identifier).min(1).optional(),
});

/** Where a trigger's part id comes from: a register read in the same poll as the edge. */
const partIdSourceSchema = z.strictObject({
  table: z.enum(['holding-register', 'input-register']).default('holding-register'),
  address,
  /** 1: a 16-bit number; 2: a 32-bit number, high word first. */
  words: z.union([z.literal(1), z.literal(2)]).default(1),
});

/** A trigger input: a rising edge (0 → non-zero) inspects one frame of `camera`. */
const triggerSchema = z.strictObject({
  camera: identifier,
  table: z.enum(['coil', 'discrete-input', 'holding-register', 'input-register']).default('discrete-input'),
  address,
  /** How often the input is read. */
  pollMs: durationMs.min(1).max(10_000).default(5),
  /**
   * An edge fires at once; the next one counts only after the input was off for this long, so
   * contact bounce and chatter after a part make no second inspection.
   */
  debounceMs: durationMs.max(10_000).default(20),
  partId: partIdSourceSchema.optional(),
});

/** Modbus TCP to a PLC: reject pulses and a verdict handshake out, triggers in. */
export const plcModbusSchema = z.strictObject({
  /** The PLC's address; no default (a PLC is on the plant network, never guessed). */
  host: hostAddress,
  port: port.default(502),
  unitId: z.number().int().min(0).max(255).default(1),
  /** Deadline of one request (read or write), and of connecting. */
  timeoutMs: durationMs.min(10).max(60_000).default(1000),
  /** Backoff between reconnection attempts and retried writes. */
  backoff: z
    .strictObject({ initialMs: durationMs.min(1).default(100), maxMs: durationMs.min(1).default(5000) })
    .prefault({}),
  /** Writes waiting for the PLC (pulses and handshakes, each lane its own bound); past it the oldest is dropped and counted. */
  queueSize: positiveInt.max(10_000).default(256),
  /** A write the PLC refuses (a Modbus exception) is tried this many times more, then dropped and counted. */
  refusedRetries: z.number().int().min(0).max(100).default(3),
  reject: rejectPulseSchema.optional(),
  handshake: handshakeSchema.optional(),
  triggers: z.array(triggerSchema).max(64).default([]),
});
export type PlcModbusConfig = z.infer<typeof plcModbusSchema>;
