import type { PlcModbusConfig } from '../../config/slices/plc-modbus.js';
import { sleep } from '../../core/deadline.js';
import { LookoutError } from '../../core/errors.js';
import type { Verdict } from '../../core/verdict.js';
import type { WriteJob } from '../write-queue.js';
import type { ModbusSession } from './modbus-session.js';

type PulseConfig = NonNullable<PlcModbusConfig['reject']>;
type HandshakeConfig = NonNullable<PlcModbusConfig['handshake']>;

/** Whether the reject coil may be on now (set, and its reset not yet acknowledged). */
export interface CoilState {
  maybeOn: boolean;
}

/**
 * One reject pulse: coil on, hold `pulseMs`, off, stay off `gapMs`; not started (expired) once the verdict
 * is older than `maxAgeMs`. A pulse that failed part-way runs
 * again from the start, first turning the coil off for `gapMs` so the PLC sees a fresh rising edge: a
 * reject is repeated rather than lost (the gate may take one part too many, never one too few).
 */
export function pulseJob(verdict: Verdict, config: PulseConfig, session: ModbusSession, coil: CoilState, signal: AbortSignal): WriteJob {
  const write = async (on: boolean): Promise<void> => {
    if (on) coil.maybeOn = true;
    await session.use((c) => c.writeCoil(config.coil, on));
    if (!on) coil.maybeOn = false;
  };
  return {
    verdictId: verdict.id,
    // the part has passed the gate: a late pulse would reject another part
    expired: () => Date.now() - verdict.decidedAt > config.maxAgeMs,
    async run(attempt) {
      if (attempt > 1 || coil.maybeOn) {
        await write(false);
        await sleep(config.gapMs, signal);
      }
      if (signal.aborted) throw new LookoutError('MODBUS_UNAVAILABLE', 'the PLC client is stopping');
      await write(true);
      await sleep(config.pulseMs, signal); // cut short by stop(): the coil goes off at once
      await write(false);
      await sleep(config.gapMs, signal);
    },
  };
}

/**
 * One handshake: code, part id (high, low word) and sequence in one write of four holding registers.
 * The sequence is fixed when the verdict is queued, so a write that is repeated carries the same one
 * and the PLC can tell a repeat from the next verdict.
 */
export function handshakeJob(verdict: Verdict, config: HandshakeConfig, sequence: number, session: ModbusSession): WriteJob {
  const part = partIdNumber(verdict.partId);
  const code = verdict.basis === 'model' ? config.codes[verdict.outcome] : config.codes.error;
  const values = [code, part >>> 16, part & 0xffff, sequence];
  return {
    verdictId: verdict.id,
    run: () => session.use((c) => c.writeRegisters(config.register, values)),
  };
}

/** The next handshake sequence: 1-65535, wrapping past 0 (0 is what an unwritten register reads). */
export function nextSequence(previous: number): number {
  return previous >= 0xffff ? 1 : previous + 1;
}

/**
 * A part id as a 32-bit number for the PLC: its value when it is a decimal number below 2^32,
 * otherwise its FNV-1a hash (the PLC compares, it does not parse); 0 when there is none.
 */
export function partIdNumber(partId: string | undefined): number {
  if (partId === undefined) return 0;
  if (/^\d{1,10}$/.test(partId) && Number(partId) <= 0xffffffff) return Number(partId);
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(partId, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}
