import type { PlcModbusConfig } from '../../config/slices/plc-modbus.js';
import { withDeadline } from '../../core/deadline.js';
import { toLookoutError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { Verdict } from '../../core/verdict.js';
import type { InspectNow, PlcClient, PlcStats } from '../ports.js';
import { type WriteCounters, WriteQueue } from '../write-queue.js';
import type { ConnectModbus } from './modbus-connection.js';
import { ModbusSession } from './modbus-session.js';
import { TriggerPoller, type TriggerCounters } from './trigger-poller.js';
import { type CoilState, handshakeJob, nextSequence, pulseJob } from './verdict-writes.js';

export interface ModbusPlcDeps {
  readonly config: PlcModbusConfig;
  readonly connect: ConnectModbus;
  readonly inspectNow: InspectNow;
  readonly log: Logger;
}

/**
 * A PLC over Modbus TCP: reject pulses on a coil and a verdict handshake in holding registers (two
 * lanes, each ordered and at-least-once, so a slow pulse never holds a handshake back), and trigger
 * inputs polled for edges, all over one connection.
 */
export class ModbusPlc implements PlcClient {
  readonly name = 'modbus';
  private readonly abort = new AbortController();
  private readonly session: ModbusSession;
  private readonly counters: WriteCounters & TriggerCounters = { written: 0, retried: 0, refused: 0, dropped: 0, expired: 0, triggers: 0, triggersFailed: 0 };
  private lastWriteError: PlcStats['lastError'];
  private readonly pulses: WriteQueue;
  private readonly handshakes: WriteQueue;
  private readonly coil: CoilState = { maybeOn: false };
  private sequence = 0;
  private loops: Array<Promise<void>> = [];

  constructor(private readonly deps: ModbusPlcDeps) {
    const { config, log } = deps;
    const signal = this.abort.signal;
    this.session = new ModbusSession({
      connect: deps.connect,
      target: { host: config.host, port: config.port, unitId: config.unitId, timeoutMs: config.timeoutMs },
      backoff: config.backoff,
      log,
      signal,
    });
    const lane = (name: string) =>
      new WriteQueue({
        name,
        capacity: config.queueSize,
        refusedRetries: config.refusedRetries,
        backoff: config.backoff,
        counters: this.counters,
        log,
        unknownErrorCode: 'MODBUS_UNAVAILABLE',
        onError: (error) => (this.lastWriteError = { code: error.code, message: error.message, at: Date.now() }),
      });
    this.pulses = lane('reject-pulse');
    this.handshakes = lane('handshake');
  }

  onVerdict(verdict: Verdict): void {
    if (this.abort.signal.aborted) return;
    const { reject, handshake } = this.deps.config;
    const mine = (cameras?: readonly string[]) => cameras === undefined || cameras.includes(verdict.cameraId);
    if (reject && mine(reject.cameras) && (reject.outcomes as readonly string[]).includes(verdict.outcome)) {
      this.pulses.push(pulseJob(verdict, reject, this.session, this.coil, this.abort.signal));
    }
    if (handshake && mine(handshake.cameras)) {
      this.sequence = nextSequence(this.sequence);
      this.handshakes.push(handshakeJob(verdict, handshake, this.sequence, this.session));
    }
  }

  async start(): Promise<void> {
    const { config, inspectNow, log } = this.deps;
    const signal = this.abort.signal;
    this.pulses.start();
    this.handshakes.start();
    this.loops = [
      ...config.triggers.map((trigger) =>
        new TriggerPoller({ trigger, session: this.session, inspectNow, backoff: config.backoff, counters: this.counters, log: log.child({ camera: trigger.camera }), signal }).run(),
      ),
    ];
    // connect now so that health shows the PLC's state; the reject coil starts off (a pulse cut short
    // by a crash would otherwise hold the gate open). In the background: a PLC that is down does not
    // hold the inspector's start-up
    const coil = config.reject?.coil;
    void this.session.use((c) => (coil === undefined ? Promise.resolve() : c.writeCoil(coil, false))).catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.abort.abort(); // cuts a pulse's hold short: the coil goes off below
    await Promise.all([this.pulses.stop(), this.handshakes.stop(), ...this.loops]);
    const { reject, timeoutMs } = this.deps.config;
    if (reject && this.coil.maybeOn) {
      // a fresh session: the stopped one refuses new work
      const last = new ModbusSession({ connect: this.deps.connect, target: this.target(), backoff: this.deps.config.backoff, log: this.deps.log, signal: new AbortController().signal });
      await withDeadline(
        last.use((c) => c.writeCoil(reject.coil, false)),
        timeoutMs * 2,
        'turning the reject coil off',
        'MODBUS_UNAVAILABLE',
      ).catch((err: unknown) => this.deps.log.error({ err: toLookoutError(err).toJSON() }, 'reject coil may still be on: the PLC did not take the reset at stop'));
      await last.close();
    }
    await this.session.close();
  }

  stats(): PlcStats {
    const c = this.counters;
    const lastError = this.lastWriteError ?? this.session.lastError;
    return {
      state: this.session.state,
      written: c.written,
      retried: c.retried,
      refused: c.refused,
      dropped: c.dropped,
      expired: c.expired,
      queued: this.pulses.size + this.handshakes.size,
      triggers: c.triggers,
      triggersFailed: c.triggersFailed,
      ...(lastError ? { lastError } : {}),
    };
  }

  private target() {
    const { host, port, unitId, timeoutMs } = this.deps.config;
    return { host, port, unitId, timeoutMs };
  }
}
