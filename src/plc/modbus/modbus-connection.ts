/** The Modbus tables a trigger or part id can be read from. */
export type BitTable = 'coil' | 'discrete-input';
export type RegisterTable = 'holding-register' | 'input-register';

export interface ModbusTarget {
  readonly host: string;
  readonly port: number;
  readonly unitId: number;
  /** Deadline of connecting and of each request. */
  readonly timeoutMs: number;
}

/**
 * One open Modbus TCP connection. Every call settles within the target's deadline: it resolves, or
 * rejects with MODBUS_UNAVAILABLE (no answer, connection gone) or MODBUS_EXCEPTION (the PLC answered
 * with an exception; `details.exceptionCode` holds its number).
 */
export interface ModbusConnection {
  readBits(table: BitTable, address: number, count: number): Promise<boolean[]>;
  readRegisters(table: RegisterTable, address: number, count: number): Promise<number[]>;
  writeCoil(address: number, on: boolean): Promise<void>;
  writeRegisters(address: number, values: readonly number[]): Promise<void>;
  /** Closes the socket; calls still waiting reject. Never throws. */
  close(): Promise<void>;
}

/** Opens a connection, or rejects with MODBUS_UNAVAILABLE within the target's deadline. */
export type ConnectModbus = (target: ModbusTarget) => Promise<ModbusConnection>;
