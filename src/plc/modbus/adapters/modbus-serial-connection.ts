import modbusSerial from 'modbus-serial';
import { LookoutError } from '../../../core/errors.js';
import { withDeadline } from '../../../core/deadline.js';
import type { BitTable, ModbusConnection, ModbusTarget, RegisterTable } from '../modbus-connection.js';

// CommonJS: module.exports is the client class itself, which its typings call `default`
const ModbusRTU = modbusSerial as unknown as typeof modbusSerial.default;

/**
 * A Modbus TCP client connection over modbus-serial (its `ModbusRTU` class with `connectTCP`).
 * modbus-serial leaves a request pending when the socket closes (only its own timeout ends it, and
 * `destroy()` cancels that too), so every call here runs under our own deadline as well.
 */
export async function connectModbusSerial(target: ModbusTarget): Promise<ModbusConnection> {
  const client = new ModbusRTU();
  client.setID(target.unitId);
  client.setTimeout(target.timeoutMs);
  const where = `${target.host}:${target.port}`;
  try {
    const connected = client.connectTCP(target.host, { port: target.port }).catch((err: unknown) => Promise.reject(translate(err, `connecting to the PLC at ${where}`)));
    await withDeadline(connected, target.timeoutMs, `connecting to the PLC at ${where}`, 'MODBUS_UNAVAILABLE');
  } catch (err) {
    client.destroy(() => undefined);
    throw err;
  }
  // a socket error after connecting surfaces as failed requests; without a listener it would throw
  client.on('error', () => undefined);

  const call = <T>(what: string, work: () => Promise<T>): Promise<T> => {
    const translated = work().catch((err: unknown) => Promise.reject(translate(err, `${what} at ${where}`)));
    return withDeadline(translated, target.timeoutMs + 50, `${what} at ${where}`, 'MODBUS_UNAVAILABLE');
  };
  return {
    readBits: (table: BitTable, address, count) =>
      call(`reading ${table} ${address}`, async () => {
        const result = table === 'coil' ? await client.readCoils(address, count) : await client.readDiscreteInputs(address, count);
        return result.data.slice(0, count);
      }),
    readRegisters: (table: RegisterTable, address, count) =>
      call(`reading ${table} ${address}`, async () => {
        const result = table === 'holding-register' ? await client.readHoldingRegisters(address, count) : await client.readInputRegisters(address, count);
        return result.data.slice(0, count);
      }),
    writeCoil: (address, on) => call(`writing coil ${address}`, async () => void (await client.writeCoil(address, on))),
    writeRegisters: (address, values) => call(`writing holding registers from ${address}`, async () => void (await client.writeRegisters(address, [...values]))),
    close: () =>
      new Promise<void>((resolve) => {
        if (!client.isOpen) return client.destroy(() => resolve());
        client.close(() => resolve());
      }),
  };
}

/** modbus-serial's errors at our boundary: an exception response, or the PLC is not answering. */
function translate(err: unknown, what: string): LookoutError {
  if (err instanceof LookoutError) return err;
  const exceptionCode = (err as { modbusCode?: unknown } | null)?.modbusCode;
  const message = err instanceof Error ? err.message : String((err as { message?: unknown } | null)?.message ?? err);
  if (typeof exceptionCode === 'number') {
    return new LookoutError('MODBUS_EXCEPTION', `${what}: the PLC answered ${message}`, { cause: err, details: { exceptionCode } });
  }
  return new LookoutError('MODBUS_UNAVAILABLE', `${what}: ${message}`, { cause: err });
}
