import { Backoff, type BackoffPolicy } from '../../core/backoff.js';
import { sleep } from '../../core/deadline.js';
import { LookoutError, toLookoutError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { ConnectModbus, ModbusConnection, ModbusTarget } from './modbus-connection.js';

export type SessionState = 'connecting' | 'up' | 'down';

export interface ModbusSessionDeps {
  readonly connect: ConnectModbus;
  readonly target: ModbusTarget;
  readonly backoff: BackoffPolicy;
  readonly log: Logger;
  /** Aborted when the PLC client stops: waiting callers reject with MODBUS_UNAVAILABLE. */
  readonly signal: AbortSignal;
}

/**
 * The one connection to a PLC that the outputs and trigger inputs share (PLCs allow few). It connects
 * on first use; a request that finds the PLC gone (MODBUS_UNAVAILABLE) drops the connection, and the
 * next use connects again: at once the first time, then after a growing backoff, so that a dead PLC
 * is not hammered by every poller and queue. The state is logged once per change.
 */
export class ModbusSession {
  private connection: ModbusConnection | undefined;
  private connecting: Promise<ModbusConnection> | undefined;
  private readonly backoff: Backoff;
  private waitBeforeConnect = false;
  private current: SessionState = 'connecting';
  private failure: { code: string; message: string; at: number } | undefined;

  constructor(private readonly deps: ModbusSessionDeps) {
    this.backoff = new Backoff(deps.backoff);
  }

  get state(): SessionState {
    return this.current;
  }

  get lastError(): { code: string; message: string; at: number } | undefined {
    return this.failure;
  }

  /** Runs `op` on the connection (connecting first if needed); its errors are LookoutErrors. */
  async use<T>(op: (connection: ModbusConnection) => Promise<T>): Promise<T> {
    const connection = await this.open();
    try {
      const result = await op(connection);
      this.mark('up');
      return result;
    } catch (err) {
      const error = toLookoutError(err, 'MODBUS_UNAVAILABLE');
      if (error.code === 'MODBUS_UNAVAILABLE') this.drop(connection, error);
      else this.mark('up'); // it answered, with a refusal: the connection is fine
      throw error;
    }
  }

  async close(): Promise<void> {
    const connection = this.connection ?? (await this.connecting?.catch(() => undefined));
    this.connection = undefined;
    await connection?.close();
  }

  private open(): Promise<ModbusConnection> {
    if (this.connection) return Promise.resolve(this.connection);
    this.connecting ??= this.connectOnce().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connectOnce(): Promise<ModbusConnection> {
    const { signal, target } = this.deps;
    if (this.waitBeforeConnect) await sleep(this.backoff.next(), signal);
    if (signal.aborted) throw new LookoutError('MODBUS_UNAVAILABLE', 'the PLC client is stopping');
    try {
      const connection = await this.deps.connect(target);
      if (signal.aborted) {
        await connection.close();
        throw new LookoutError('MODBUS_UNAVAILABLE', 'the PLC client is stopping');
      }
      this.connection = connection;
      this.waitBeforeConnect = false;
      this.backoff.reset();
      this.mark('up');
      return connection;
    } catch (err) {
      const error = toLookoutError(err, 'MODBUS_UNAVAILABLE');
      this.waitBeforeConnect = true;
      this.fail(error);
      throw error;
    }
  }

  private drop(connection: ModbusConnection, error: LookoutError): void {
    if (this.connection === connection) {
      this.connection = undefined;
      void connection.close();
    }
    this.fail(error);
  }

  private fail(error: LookoutError): void {
    this.failure = { code: error.code, message: error.message, at: Date.now() };
    if (this.current !== 'down' && !this.deps.signal.aborted) {
      this.deps.log.error({ err: error.toJSON(), plc: `${this.deps.target.host}:${this.deps.target.port}` }, 'PLC unreachable over Modbus TCP: writes wait in their queues, triggers are not read');
    }
    this.current = 'down';
  }

  private mark(state: 'up'): void {
    if (this.current === 'down') this.deps.log.info({ plc: `${this.deps.target.host}:${this.deps.target.port}` }, 'PLC reachable over Modbus TCP again');
    this.current = state;
  }
}
