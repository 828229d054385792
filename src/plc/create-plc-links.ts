import type { Config } from '../config/schema.js';
import type { Logger } from '../core/log.js';
import type { InspectTrigger, PlcLink } from './plc-link.js';

/**
 * The PLC links `plc` configures, each protocol's adapter loaded only when named: node-opcua-client costs
 * the process tens of MB and most of a second to load (BENCHMARKS.md, "PLC I/O").
 */
export async function createPlcLinks(plc: Config['plc'], deps: { inspect: InspectTrigger; log: Logger }): Promise<PlcLink[]> {
  const links: PlcLink[] = [];
  if (plc.opcua) {
    const { OpcuaLink, routeLibraryLogs } = await import('./opcua/adapters/opcua-link.js');
    const log = deps.log.child({ stage: 'plc', protocol: 'opcua' });
    routeLibraryLogs(log); // before node-opcua's start-up check prints its notice
    links.push(new OpcuaLink({ config: plc.opcua, inspect: deps.inspect, log }));
  }
  return links;
}

/** The links' last errors for the inspector's health (`plc:opcua` → { code, message, at }). */
export function plcPartErrors(links: readonly PlcLink[]): Record<string, { code: string; message: string; at: number }> {
  const errors: Record<string, { code: string; message: string; at: number }> = {};
  for (const link of links) {
    const { protocol, lastError } = link.status();
    if (lastError) errors[`plc:${protocol}`] = lastError;
  }
  return errors;
}
