import type { PlcModbusConfig } from '../../config/slices/plc-modbus.js';
import { Backoff, type BackoffPolicy } from '../../core/backoff.js';
import { sleep } from '../../core/deadline.js';
import { toLookoutError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { InspectNow } from '../ports.js';
import type { ModbusSession } from './modbus-session.js';

type TriggerConfig = PlcModbusConfig['triggers'][number];

export interface TriggerCounters {
  triggers: number;
  triggersFailed: number;
}

/**
 * Rising-edge detection with a re-arm debounce: an edge fires at once (no latency added), and the
 * next one counts only after the input was off for `debounceMs`. The first reading after a
 * (re)connection sets the level without firing (an edge missed while the PLC was away is not made up
 * later, when the part has moved on); an input that reads off then is armed.
 */
export class EdgeDetector {
  private level: boolean | undefined;
  private offSince = Number.NEGATIVE_INFINITY;

  constructor(private readonly debounceMs: number) {}

  /** Feeds one reading at `now` (ms); true when it is an edge that counts. */
  feed(high: boolean, now: number): boolean {
    const previous = this.level;
    this.level = high;
    if (previous === undefined) {
      this.offSince = high ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
      return false;
    }
    if (!high) {
      if (previous) this.offSince = now;
      return false;
    }
    return !previous && now - this.offSince >= this.debounceMs;
  }

  /** Forgets the level (the connection dropped). */
  reset(): void {
    this.level = undefined;
  }
}

export interface TriggerPollerDeps {
  readonly trigger: TriggerConfig;
  readonly session: ModbusSession;
  readonly inspectNow: InspectNow;
  readonly backoff: BackoffPolicy;
  readonly counters: TriggerCounters;
  readonly log: Logger;
  readonly signal: AbortSignal;
}

/**
 * Reads one trigger input every `pollMs`; each edge starts an inspection of its camera (not awaited:
 * polling goes on while the frame is inspected), with the part id read from its register when one is
 * configured. A failed read forgets the level and waits a backoff; failures are logged once per change.
 */
export class TriggerPoller {
  private readonly edges: EdgeDetector;
  private readonly backoff: Backoff;
  private failing = false;
  private serveFailing = false;

  constructor(private readonly deps: TriggerPollerDeps) {
    this.edges = new EdgeDetector(deps.trigger.debounceMs);
    this.backoff = new Backoff(deps.backoff);
  }

  async run(): Promise<void> {
    const { signal, trigger } = this.deps;
    while (!signal.aborted) {
      const started = performance.now();
      try {
        const high = await this.read();
        this.failing = false;
        this.backoff.reset();
        if (this.edges.feed(high, performance.now())) await this.fire();
      } catch (err) {
        if (signal.aborted) break;
        this.edges.reset();
        if (!this.failing) this.deps.log.warn({ camera: trigger.camera, err: toLookoutError(err).toJSON() }, 'PLC trigger input not readable');
        this.failing = true;
        await sleep(this.backoff.next(), signal);
        continue;
      }
      await sleep(Math.max(0, trigger.pollMs - (performance.now() - started)), signal);
    }
  }

  private async read(): Promise<boolean> {
    const { table, address } = this.deps.trigger;
    if (table === 'coil' || table === 'discrete-input') {
      const [bit] = await this.deps.session.use((c) => c.readBits(table, address, 1));
      return bit === true;
    }
    const [value] = await this.deps.session.use((c) => c.readRegisters(table, address, 1));
    return (value ?? 0) !== 0;
  }

  private async fire(): Promise<void> {
    const { trigger, counters, log } = this.deps;
    counters.triggers += 1;
    const partId = await this.partId();
    this.deps.inspectNow(trigger.camera, partId).then(
      () => {
        if (this.serveFailing) log.info({ camera: trigger.camera }, 'PLC triggers served again');
        this.serveFailing = false;
      },
      (err: unknown) => {
        counters.triggersFailed += 1;
        if (!this.serveFailing) log.warn({ camera: trigger.camera, partId, err: toLookoutError(err).toJSON() }, 'PLC trigger not served');
        this.serveFailing = true;
      },
    );
  }

  /** The part id register's value, or none when it cannot be read (the part is inspected anyway). */
  private async partId(): Promise<string | undefined> {
    const source = this.deps.trigger.partId;
    if (!source) return undefined;
    try {
      const words = await this.deps.session.use((c) => c.readRegisters(source.table, source.address, source.words));
      const value = words.length === 2 ? (words[0] ?? 0) * 0x10000 + (words[1] ?? 0) : (words[0] ?? 0);
      return String(value);
    } catch (err) {
      this.deps.log.warn({ camera: this.deps.trigger.camera, err: toLookoutError(err).toJSON() }, 'part id register not readable: inspecting without a part id');
      return undefined;
    }
  }
}
