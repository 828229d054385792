import { sleep } from '../../core/deadline.js';
import { execFile } from 'node:child_process';
import { access, mkdir } from 'node:fs/promises';
import { promisify } from 'node:util';

/** The demo's simulated PLCs: the test suite's PLC peers (test/peers), each in its own process. */
export interface DemoPlcs {
  /** pymodbus PLC: trigger on discrete input `lightBarrier`, reject pulses on coil `rejectCoil`. */
  readonly modbus?: { readonly host: string; readonly port: number; readonly lightBarrier: number; readonly rejectCoil: number };
  /** node-opcua-server PLC (security None): counts parts on Line1.TriggerCount, takes verdicts on Line1.*. */
  readonly opcua?: { readonly endpointUrl: string; readonly certificateFile: string; readonly privateKeyFile: string };
  /** Why a PLC is not there, for the terminal. */
  readonly skipped: readonly string[];
  /** The plant: one part passes the light barrier (and is counted on the OPC UA PLC). */
  part(): Promise<void>;
  stop(): Promise<void>;
}

/** The parts of the peers' modules the demo uses (test/peers/modbus-plc.ts, opcua-peer.ts, test/helpers/opcua-certs.ts). */
interface ModbusPeer {
  readonly host: string;
  readonly port: number;
  set(table: 'di', address: number, values: number[]): Promise<unknown>;
  close(): Promise<void>;
}
interface OpcuaPeer {
  readonly endpointUrl: string;
  command(cmd: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

const LIGHT_BARRIER = 3;
const REJECT_COIL = 7;
const run = promisify(execFile);

/**
 * A module of the test suite, from src/demo/adapters (run with tsx) or dist/src/demo/adapters (`npm run
 * demo`, compiled: tsx, a devDependency, is registered to load it); absent from a component build.
 */
async function importTestModule(path: string): Promise<unknown> {
  const compiled = !import.meta.url.endsWith('.ts');
  const url = new URL(`${compiled ? '../../../../' : '../../../'}test/${path}`, import.meta.url);
  await access(url).catch(() => {
    throw new Error('its peer (test/peers) is not in this installation');
  });
  if (compiled) await registerTsx();
  return import(url.href);
}

let tsx: Promise<unknown> | undefined;
function registerTsx(): Promise<unknown> {
  tsx ??= import('tsx/esm/api').then(({ register }) => register());
  return tsx;
}

/**
 * Starts the PLC peers that are installed: the pymodbus one when `python3 -c 'import pymodbus'` works,
 * the node-opcua-server one when its module (a devDependency) and openssl are there. The peers belong to the
 * test suite: from a checkout, not from a component build, where both are skipped with a note.
 */
export async function startDemoPlcs(dir: string): Promise<DemoPlcs> {
  const skipped: string[] = [];
  const [modbus, opcua] = await Promise.all([startModbus().catch((err: unknown) => void skipped.push(`Modbus PLC skipped: ${reason(err)}`)), startOpcua(dir).catch((err: unknown) => void skipped.push(`OPC UA PLC skipped: ${reason(err)}`))]);
  let count = 0;
  return {
    ...(modbus ? { modbus: { host: modbus.host, port: modbus.port, lightBarrier: LIGHT_BARRIER, rejectCoil: REJECT_COIL } } : {}),
    ...(opcua ? { opcua: { endpointUrl: opcua.peer.endpointUrl, certificateFile: opcua.certFile, privateKeyFile: opcua.keyFile } } : {}),
    skipped,
    async part() {
      count += 1;
      if (modbus) {
        await modbus.set('di', LIGHT_BARRIER, [1]);
        await sleep(100); // the barrier is interrupted while the part passes
        await modbus.set('di', LIGHT_BARRIER, [0]);
      }
      await opcua?.peer.command({ cmd: 'set', node: 'Line1.TriggerCount', value: count });
    },
    async stop() {
      await Promise.all([modbus?.close(), opcua?.peer.close()]);
    },
  };
}

async function startModbus(): Promise<ModbusPeer> {
  await run('/usr/bin/python3', ['-c', 'import pymodbus']).catch(() => {
    throw new Error('pymodbus is not installed (Debian python3-pymodbus)');
  });
  const { startModbusPlc } = (await importTestModule('peers/modbus-plc.ts')) as { startModbusPlc(): Promise<ModbusPeer> };
  return startModbusPlc();
}

async function startOpcua(dir: string): Promise<{ peer: OpcuaPeer; certFile: string; keyFile: string }> {
  const [{ startOpcuaPeer }, { opcuaCertificate }] = (await Promise.all([importTestModule('peers/opcua-peer.ts'), importTestModule('helpers/opcua-certs.ts')])) as [
    { startOpcuaPeer(): Promise<OpcuaPeer> },
    { opcuaCertificate(dir: string, name: string, uri: string): Promise<{ certFile: string; keyFile: string }> },
  ];
  await mkdir(dir, { recursive: true });
  const [peer, ours] = await Promise.all([startOpcuaPeer(), opcuaCertificate(dir, 'lookout-demo', 'urn:lookout-edge:demo')]);
  return { peer, certFile: ours.certFile, keyFile: ours.keyFile };
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
