import type { PlcConfig } from '../config/slices/plc.js';
import type { Logger } from '../core/log.js';
import type { Verdict } from '../core/verdict.js';
import type { InspectNow, PlcClient, PlcStats } from './ports.js';

/** The PLC clients the configuration names, as one verdict sink; empty (and free) when it names none. */
export interface Plcs {
  onVerdict(verdict: Verdict): void;
  start(): Promise<void>;
  stop(reason?: string): Promise<void>;
  /** Per protocol, for health and /api. */
  stats(): Record<string, PlcStats>;
  /** The last error of each client (`plc:modbus`, `plc:opcua`), for the inspector's status. */
  errors(): Record<string, { code: string; message: string; at: number }>;
}

export interface PlcDeps {
  readonly inspectNow: InspectNow;
  readonly log: Logger;
}

/** The clients of `createPlcClients` behind one verdict sink. */
export async function createPlcs(config: PlcConfig, deps: PlcDeps): Promise<Plcs> {
  const clients = await createPlcClients(config, deps);
  return {
    onVerdict: (verdict) => {
      for (const client of clients) client.onVerdict(verdict);
    },
    start: async () => void (await Promise.all(clients.map((c) => c.start()))),
    stop: async (reason) => void (await Promise.all(clients.map((c) => c.stop(reason)))),
    stats: () => Object.fromEntries(clients.map((c) => [c.name, c.stats()])),
    errors: () => Object.fromEntries(clients.flatMap((c) => (c.stats().lastError ? [[`plc:${c.name}`, c.stats().lastError!]] : []))),
  };
}

/**
 * One client per protocol `plc` names (Modbus, then OPC UA). Each protocol package is imported only here
 * and only when configured: an inspector without a PLC does not pay its memory (node-opcua-client alone
 * is tens of MB, BENCHMARKS.md "opcua-memory").
 */
export async function createPlcClients(config: PlcConfig, deps: PlcDeps): Promise<PlcClient[]> {
  const clients: PlcClient[] = [];
  if (config.modbus) {
    const [{ ModbusPlc }, { connectModbusSerial }] = await Promise.all([import('./modbus/modbus-plc.js'), import('./modbus/adapters/modbus-serial-connection.js')]);
    clients.push(new ModbusPlc({ config: config.modbus, connect: connectModbusSerial, inspectNow: deps.inspectNow, log: deps.log.child({ plc: 'modbus' }) }));
  }
  if (config.opcua) {
    const { OpcuaLink, routeLibraryLogs } = await import('./opcua/adapters/opcua-link.js');
    const log = deps.log.child({ plc: 'opcua' });
    routeLibraryLogs(log); // before node-opcua's start-up check prints its notice
    clients.push(new OpcuaLink({ config: config.opcua, inspectNow: deps.inspectNow, log }));
  }
  return clients;
}
