/**
 * An OPC UA server standing in for a PLC, run in its own process (`node --import tsx`), built on
 * node-opcua-server (the reference stack most Node OPC UA servers use). Its address space follows what a PLC
 * integrator exposes for a vision station (OPC UA Part 3 variables, string node ids in our own namespace):
 * `Line1.Outcome` (String), `Line1.Score` (Double), `Line1.PartId` (String), `Line1.Timestamp` (DateTime),
 * `Line1.Camera` (String) for the verdict, and `Line1.Trigger` (Boolean), `Line1.TriggerCount` (UInt32),
 * `Line1.TriggerPartId` (String) for the light barrier.
 *
 * Its sharp edges are the real ones: it checks client certificates against its own trust list (node-opcua's
 * disk PKI, unknown certificates refused with BadCertificateUntrusted), checks the application URI in them,
 * and forgets every session and subscription when it restarts.
 *
 * argv[2]: JSON options (see PeerOptions). stdout: one JSON object a line — `{"event":"ready"}`,
 * `{"event":"write","node":…,"value":…,"status":…}` for each write to a verdict node, `{"event":"ack"}` for each
 * command. stdin: one JSON command a line — `{"cmd":"refuse","on":true}` (writes answered
 * BadUserAccessDenied), `{"cmd":"slow","ms":300}` (each write answered that late), `{"cmd":"set","node":"Line1.Trigger","value":true}`.
 */
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { X509Certificate } from 'node:crypto';
import { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import { DataType, MessageSecurityMode, SecurityPolicy, StatusCodes, Variant, type StatusCode } from 'node-opcua-client';
import { MonitoredItem, OPCUAServer, Subscription } from 'node-opcua-server';

interface PeerOptions {
  port: number;
  pkiDir: string;
  certFile: string;
  keyFile: string;
  /** Client certificates (PEM) the server trusts. */
  trust: string[];
  modes: Array<'None' | 'SignAndEncrypt'>;
  user?: { name: string; password: string };
  /** node-opcua's floor is 50 ms; PLCs go down to 10 ms or so. */
  minPublishingIntervalMs?: number;
  /**
   * The server's MinSupportedSampleRate (node-opcua 50 ms). A node monitored with samplingInterval 0 is
   * served exception-based: its first change goes out at once, later ones within this window are folded
   * into one reported at the window's end (node-opcua-server MonitoredItem).
   */
  minSamplingIntervalMs?: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as PeerOptions;
const out = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ ...o, at: performance.timeOrigin + performance.now() })}\n`);
if (options.minPublishingIntervalMs !== undefined) Subscription.minimumPublishingInterval = options.minPublishingIntervalMs;
if (options.minSamplingIntervalMs !== undefined) MonitoredItem.minimumSamplingInterval = options.minSamplingIntervalMs;
let refuse = false;
let slowMs = 0;

const certificateManager = new OPCUACertificateManager({ rootFolder: options.pkiDir, automaticallyAcceptUnknownCertificate: false });
await certificateManager.initialize();
for (const file of options.trust) await certificateManager.trustCertificate(Buffer.from(new X509Certificate(await readFile(file)).raw));

const applicationUri = new X509Certificate(await readFile(options.certFile)).subjectAltName?.match(/URI:([^,]+)/)?.[1];
const server = new OPCUAServer({
  port: options.port,
  host: '127.0.0.1',
  hostname: 'localhost',
  certificateFile: options.certFile,
  privateKeyFile: options.keyFile,
  serverCertificateManager: certificateManager,
  securityModes: options.modes.map((m) => MessageSecurityMode[m]),
  securityPolicies: [SecurityPolicy.None, SecurityPolicy.Basic256Sha256],
  allowAnonymous: !options.user,
  ...(options.user ? { userManager: { isValidUser: (name: string, password: string) => name === options.user?.name && password === options.user?.password } } : {}),
  serverInfo: { applicationUri: applicationUri ?? 'urn:lookout-edge-test:plc', productUri: 'lookout-edge-test-plc', applicationName: { text: 'test PLC' } },
  buildInfo: { productName: 'test PLC' },
  disableDiscovery: false,
});
await server.initialize();

const namespace = server.engine.addressSpace!.getOwnNamespace();
const line = namespace.addObject({ organizedBy: server.engine.addressSpace!.rootFolder.objects, browseName: 'Line1', nodeId: 's=Line1' });
const values = new Map<string, Variant>();
const verdictNodes: Array<[string, DataType]> = [['Outcome', DataType.String], ['Score', DataType.Double], ['PartId', DataType.String], ['Timestamp', DataType.DateTime], ['Camera', DataType.String]];
for (const [name, dataType] of verdictNodes) {
  const id = `Line1.${name}`;
  values.set(id, new Variant({ dataType, value: dataType === DataType.Double ? 0 : dataType === DataType.DateTime ? new Date(0) : '' }));
  namespace.addVariable({
    componentOf: line,
    browseName: name,
    nodeId: `s=${id}`,
    dataType,
    minimumSamplingInterval: 50,
    value: {
      get: () => values.get(id)!,
      set: (variant: Variant, callback: (err: Error | null, status: StatusCode) => void) => {
        const answer = () => {
          const status = refuse ? StatusCodes.BadUserAccessDenied : StatusCodes.Good;
          if (!refuse) values.set(id, variant);
          out({ event: 'write', node: id, value: variant.value instanceof Date ? variant.value.toISOString() : variant.value, status: status.name });
          callback(null, status);
        };
        if (slowMs > 0) setTimeout(answer, slowMs);
        else answer();
      },
    },
  });
}
const triggers = new Map([
  ['Line1.Trigger', namespace.addVariable({ componentOf: line, browseName: 'Trigger', nodeId: 's=Line1.Trigger', dataType: DataType.Boolean, minimumSamplingInterval: 0 })],
  ['Line1.TriggerCount', namespace.addVariable({ componentOf: line, browseName: 'TriggerCount', nodeId: 's=Line1.TriggerCount', dataType: DataType.UInt32, minimumSamplingInterval: 0 })],
  ['Line1.TriggerPartId', namespace.addVariable({ componentOf: line, browseName: 'TriggerPartId', nodeId: 's=Line1.TriggerPartId', dataType: DataType.String, minimumSamplingInterval: 0 })],
]);
triggers.get('Line1.Trigger')!.setValueFromSource({ dataType: DataType.Boolean, value: false });
triggers.get('Line1.TriggerCount')!.setValueFromSource({ dataType: DataType.UInt32, value: 0 });
triggers.get('Line1.TriggerPartId')!.setValueFromSource({ dataType: DataType.String, value: '' });

createInterface({ input: process.stdin }).on('line', (text) => {
  const command = JSON.parse(text) as { cmd: string; on?: boolean; ms?: number; node?: string; value?: unknown };
  if (command.cmd === 'refuse') refuse = Boolean(command.on);
  if (command.cmd === 'slow') slowMs = command.ms ?? 0;
  if (command.cmd === 'set') {
    const node = triggers.get(command.node ?? '');
    const dataType = typeof command.value === 'boolean' ? DataType.Boolean : typeof command.value === 'number' ? DataType.UInt32 : DataType.String;
    node?.setValueFromSource({ dataType, value: command.value });
  }
  out({ event: 'ack', cmd: command.cmd });
});

await server.start();
out({ event: 'ready', port: options.port });
const stop = () => void server.shutdown(0).then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
