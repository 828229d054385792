/**
 * The OPC UA adapter (node-opcua-client): the one file that imports the SDK, loaded by plc/create-plc.ts
 * only when `plc.opcua` is configured (the package costs the process tens of MB). See PlcClient.
 */
import { format, stripVTControlCharacters } from 'node:util';
import {
  AttributeIds,
  ClientMonitoredItem,
  type ClientSession,
  ClientSubscription,
  crypto_utils,
  type DataValue,
  DataType,
  MessageSecurityMode,
  OPCUAClient,
  SecurityPolicy,
  setErrorLogger,
  setWarningLogger,
  type StatusCode,
  StatusCodes,
  TimestampsToReturn,
  type UserIdentityInfo,
  UserTokenType,
} from 'node-opcua-client';
import type { PlcOpcuaConfig } from '../../../config/schema.js';
import { Backoff } from '../../../core/backoff.js';
import { sleep, withDeadline } from '../../../core/deadline.js';
import { LookoutError, toLookoutError } from '../../../core/errors.js';
import type { Logger } from '../../../core/log.js';
import type { Verdict } from '../../../core/verdict.js';
import type { InspectNow, PlcClient, PlcStats } from '../../ports.js';
import { TriggerEdge } from '../../trigger-edge.js';
import { type WriteCounters, WriteQueue } from '../../write-queue.js';
import { type ClientCredentials, fingerprint, readCredentials } from '../certificates.js';
import { type BuiltinName, builtinName, VERDICT_FIELDS, type VerdictField, verdictValues } from '../verdict-values.js';

export interface OpcuaLinkDeps {
  readonly config: PlcOpcuaConfig;
  readonly inspectNow: InspectNow;
  readonly log: Logger;
}

/** Statuses that say the connection or session went away, not that the server refused the value. */
const TRANSIENT = new Set<number>([
  StatusCodes.BadTimeout.value, StatusCodes.BadSessionIdInvalid.value, StatusCodes.BadSessionClosed.value, StatusCodes.BadSessionNotActivated.value,
  StatusCodes.BadSecureChannelClosed.value, StatusCodes.BadConnectionClosed.value, StatusCodes.BadServerNotConnected.value, StatusCodes.BadNoCommunication.value,
  StatusCodes.BadServerHalted.value, StatusCodes.BadTooManyOperations.value, StatusCodes.BadResourceUnavailable.value, StatusCodes.BadTooManySessions.value,
]);

export class OpcuaLink implements PlcClient {
  readonly name = 'opcua';
  private readonly config: PlcOpcuaConfig;
  private readonly log: Logger;
  private readonly queue: WriteQueue;
  private readonly counters: WriteCounters = { written: 0, retried: 0, refused: 0, dropped: 0, expired: 0 };
  private readonly cameras: ReadonlySet<string> | undefined;
  private readonly edges: TriggerEdge[];
  private client: OPCUAClient | undefined;
  private session: ClientSession | undefined;
  private types = new Map<VerdictField, BuiltinName>();
  private state: PlcStats['state'] = 'stopped';
  private triggers = 0;
  private triggersFailed = 0;
  private lastError: PlcStats['lastError'];
  private readonly stopping = new AbortController();
  private connecting: Promise<void> = Promise.resolve();

  constructor(private readonly deps: OpcuaLinkDeps) {
    this.config = deps.config;
    this.log = deps.log;
    this.cameras = deps.config.verdict.cameras ? new Set(deps.config.verdict.cameras) : undefined;
    this.edges = deps.config.triggers.map((t) => new TriggerEdge(t.kind));
    this.queue = new WriteQueue({
      name: 'verdict',
      capacity: deps.config.queueSize,
      refusedRetries: 0, // a Bad status on a write is the server's answer to that value: the next one is written
      backoff: deps.config.backoff,
      counters: this.counters,
      log: deps.log,
      unknownErrorCode: 'OPCUA_UNAVAILABLE',
      // while not connected, the connection's own error says more than "not connected"
      onError: (error) => this.state === 'up' && this.noteError(error),
    });
  }

  /** Reads the certificates (a problem there throws: a configuration error) and connects in the background. */
  async start(): Promise<void> {
    const credentials = await readCredentials(this.config);
    routeLibraryLogs(this.log);
    this.client = this.createClient(credentials);
    this.state = 'connecting';
    this.queue.start();
    this.connecting = this.connectLoop(this.client);
  }

  onVerdict(verdict: Verdict): void {
    if (this.cameras && !this.cameras.has(verdict.cameraId)) return;
    if (!VERDICT_FIELDS.some((f) => this.config.verdict[f] !== undefined)) return;
    this.queue.push({ verdictId: verdict.id, run: () => this.write(verdict) });
  }

  stats(): PlcStats {
    return { state: this.state, ...this.counters, queued: this.queue.size, triggers: this.triggers, triggersFailed: this.triggersFailed, ...(this.lastError ? { lastError: this.lastError } : {}) };
  }

  async stop(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort();
    await this.queue.stop();
    const client = this.client;
    await client?.disconnect().catch(() => undefined); // closes the session and its subscription; cancels a reconnection
    await this.connecting;
    this.state = 'stopped';
  }

  private createClient(credentials: ClientCredentials): OPCUAClient {
    const { config } = this;
    const secure = config.securityMode === 'SignAndEncrypt';
    const client = OPCUAClient.create({
      applicationName: 'lookout-edge',
      applicationUri: credentials.applicationUri,
      endpointMustExist: false,
      securityMode: secure ? MessageSecurityMode.SignAndEncrypt : MessageSecurityMode.None,
      securityPolicy: secure ? SecurityPolicy[config.securityPolicy] : SecurityPolicy.None,
      // One retry for the first connection (our loop retries it, and says why it fails); node-opcua's own
      // repair after a lost connection retries without end between these delays, and restores the session
      // and its subscription (or makes new ones when the server forgot them).
      connectionStrategy: { maxRetry: 1, initialDelay: config.backoff.initialMs, maxDelay: config.backoff.maxMs, randomisationFactor: 0.5 },
      requestedSessionTimeout: config.sessionTimeoutMs,
      keepSessionAlive: true,
      keepAliveInterval: Math.max(1_000, Math.round(config.sessionTimeoutMs / 3)),
      defaultTransactionTimeout: config.writeTimeoutMs,
      transportTimeout: Math.max(5_000, config.writeTimeoutMs),
      certificateKeyPairProvider: {
        getCertificate: () => credentials.certificate,
        getCertificateChain: () => [credentials.certificate],
        getPrivateKey: () => ({ hidden: credentials.privateKey }),
      },
      clientCertificateManager: pinnedTrust(credentials),
      clientName: 'lookout-edge-plc',
    });
    client.on('connection_lost', () => this.lost());
    client.on('connection_reestablished', () => this.up('reconnected'));
    client.on('close', (err) => {
      // node-opcua gave up repairing (not a refused connection: it retries those): start over
      if (!this.stopping.signal.aborted && err && this.state !== 'stopped') {
        this.noteError(classify(err));
        this.connecting = this.connecting.then(() => this.connectLoop(client));
      }
    });
    return client;
  }

  /** Connects and opens a session until it works or we stop; logs each distinct failure once. */
  private async connectLoop(client: OPCUAClient): Promise<void> {
    const backoff = new Backoff(this.config.backoff);
    let lastCode: string | undefined;
    while (!this.stopping.signal.aborted) {
      try {
        this.setState('connecting');
        await client.connect(this.config.endpointUrl);
        if (this.stopping.signal.aborted) return;
        const session = await client.createSession(this.identity());
        this.session = session;
        session.on('session_restored', () => {
          this.log.info({ endpoint: this.config.endpointUrl }, 'OPC UA session restored');
          this.queue.kick();
        });
        await this.readTypes(session);
        await this.subscribe(session);
        this.up('connected');
        return;
      } catch (err) {
        if (this.stopping.signal.aborted) return;
        const error = classify(err);
        this.noteError(error);
        if (error.code !== lastCode) this.log.error({ err: error.toJSON(), endpoint: this.config.endpointUrl }, 'OPC UA server not usable; retrying');
        lastCode = error.code;
        this.setState('down');
        await client.disconnect().catch(() => undefined);
        await sleep(error.retryable ? backoff.next() : backoff.longest(), this.stopping.signal);
      }
    }
  }

  private identity(): UserIdentityInfo {
    const user = this.config.user;
    return user ? { type: UserTokenType.UserName, userName: user.name, password: user.password } : { type: UserTokenType.Anonymous };
  }

  /** The data type of each verdict node, read once per session: values are written as the node wants them. */
  private async readTypes(session: ClientSession): Promise<void> {
    const fields = VERDICT_FIELDS.filter((f) => this.config.verdict[f] !== undefined);
    const values = await session.read(fields.map((f) => ({ nodeId: this.config.verdict[f]!, attributeId: AttributeIds.DataType })));
    const types = new Map<VerdictField, BuiltinName>();
    fields.forEach((field, i) => {
      const dv = values[i]!;
      const id = dv.statusCode.isGood() ? (dv.value.value as { namespace?: number; value?: unknown } | null) : null;
      const name = id && id.namespace === 0 && typeof id.value === 'number' ? builtinName(id.value) : undefined;
      if (name) types.set(field, name);
      else this.log.error({ field, nodeId: this.config.verdict[field], status: dv.statusCode.name }, 'OPC UA verdict node not written: it does not exist or has a data type we cannot write');
    });
    this.types = types;
  }

  private async subscribe(session: ClientSession): Promise<void> {
    if (this.config.triggers.length === 0) return;
    const subscription = ClientSubscription.create(session, {
      requestedPublishingInterval: this.config.publishingIntervalMs,
      requestedLifetimeCount: 600,
      requestedMaxKeepAliveCount: 20,
      maxNotificationsPerPublish: 1_000,
      publishingEnabled: true,
      priority: 200,
    });
    await new Promise<void>((resolve, reject) => {
      subscription.once('started', () => resolve());
      subscription.once('internal_error', reject);
    });
    // connected only once the server monitors every trigger node: a change before that would be missed
    await Promise.all(
      this.config.triggers.map((trigger, i) => {
        const item = ClientMonitoredItem.create(
          subscription,
          { nodeId: trigger.nodeId, attributeId: AttributeIds.Value },
          // a queue, so that a pulse shorter than the publishing interval arrives as both its edges
          { samplingInterval: trigger.samplingIntervalMs, discardOldest: true, queueSize: 16 },
          TimestampsToReturn.Neither,
        );
        item.on('changed', (dv: DataValue) => this.triggerChanged(i, dv));
        return new Promise<void>((resolve) => {
          item.once('initialized', () => resolve());
          item.once('err', (message: string) => {
            this.log.error({ camera: trigger.camera, nodeId: trigger.nodeId, problem: message }, 'OPC UA trigger node not monitored');
            resolve();
          });
        });
      }),
    );
  }

  private triggerChanged(index: number, dv: DataValue): void {
    const trigger = this.config.triggers[index]!;
    if (!dv.statusCode.isGood() || !this.edges[index]!.accept(dv.value.value)) return;
    this.triggers += 1;
    void this.fire(trigger).catch((err: unknown) => {
      this.triggersFailed += 1;
      this.log.warn({ camera: trigger.camera, err: toLookoutError(err).toJSON() }, 'OPC UA trigger not served');
    });
  }

  private async fire(trigger: PlcOpcuaConfig['triggers'][number]): Promise<void> {
    let partId: string | undefined;
    if (trigger.partIdNodeId && this.session) {
      const dv = await withDeadline(this.session.read({ nodeId: trigger.partIdNodeId, attributeId: AttributeIds.Value }), this.config.writeTimeoutMs, 'reading the part id', 'OPCUA_UNAVAILABLE');
      const value: unknown = dv.statusCode.isGood() ? dv.value.value : undefined;
      if (typeof value === 'string' && value !== '') partId = value;
      else if (typeof value === 'number') partId = String(value);
    }
    await this.deps.inspectNow(trigger.camera, partId);
  }

  private async write(verdict: Verdict): Promise<void> {
    const session = this.session;
    if (!session || this.state !== 'up') throw new LookoutError('OPCUA_UNAVAILABLE', 'not connected to the OPC UA server');
    const values = verdictValues(verdict, this.config.verdict, (f) => this.types.get(f));
    if (values.length === 0) return;
    const nodesToWrite = values.map((v) => ({ nodeId: v.nodeId, attributeId: AttributeIds.Value, value: { value: { dataType: DataType[v.dataType], value: v.value } } }));
    let statuses: StatusCode[];
    try {
      statuses = await withDeadline(session.write(nodesToWrite), this.config.writeTimeoutMs, 'OPC UA verdict write', 'OPCUA_UNAVAILABLE');
    } catch (err) {
      throw classify(err);
    }
    const bad = statuses.map((s, i) => ({ s, v: values[i]! })).filter(({ s }) => !s.isGood());
    if (bad.length === 0) return;
    const details = { verdictId: verdict.id, nodes: bad.map(({ s, v }) => `${v.nodeId}: ${s.name}`) };
    if (bad.some(({ s }) => TRANSIENT.has(s.value))) throw new LookoutError('OPCUA_UNAVAILABLE', `verdict write not done: ${details.nodes.join(', ')}`, { details });
    throw new LookoutError('OPCUA_WRITE_REFUSED', `the OPC UA server refused the verdict write: ${details.nodes.join(', ')}`, { details });
  }

  private up(how: 'connected' | 'reconnected'): void {
    if (this.stopping.signal.aborted) return;
    this.setState('up');
    this.queue.kick();
    this.log.info({ endpoint: this.config.endpointUrl, securityMode: this.config.securityMode }, how === 'connected' ? 'OPC UA server connected' : 'OPC UA connection re-established');
  }

  private lost(): void {
    if (this.stopping.signal.aborted) return;
    for (const edge of this.edges) edge.forget();
    this.noteError(new LookoutError('OPCUA_UNAVAILABLE', 'connection to the OPC UA server lost'));
    if (this.state !== 'down') this.log.warn({ endpoint: this.config.endpointUrl, queued: this.queue.size }, 'OPC UA connection lost; reconnecting (verdicts wait in the queue)');
    this.setState('down');
  }

  private setState(state: PlcStats['state']): void {
    this.state = state;
  }

  private noteError(error: LookoutError): void {
    this.lastError = { code: error.code, message: error.message, at: Date.now() };
  }
}

/** node-opcua's errors into our codes, by the status code it carries or names (never by free text alone). */
function classify(err: unknown): LookoutError {
  if (err instanceof LookoutError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const named = (...names: string[]) => names.some((n) => message.includes(n));
  if (named('server Certificate verification failed')) {
    return new LookoutError('OPCUA_UNTRUSTED', `the OPC UA server's certificate is not one of plc.opcua.trustedServerCertificates: ${message}`, { cause: err });
  }
  if (named('BadCertificate', 'BadSecurityChecksFailed', 'BadSecurityPolicyRejected', 'BadNoValidCertificates', 'BadApplicationSignatureInvalid')) {
    return new LookoutError('OPCUA_UNTRUSTED', `the OPC UA server refused our certificate (add plc.opcua.certificateFile to its trust list): ${message}`, { cause: err });
  }
  if (named('BadIdentityTokenInvalid', 'BadIdentityTokenRejected', 'BadUserAccessDenied', 'BadUserSignatureInvalid')) {
    return new LookoutError('OPCUA_AUTH_FAILED', `the OPC UA server refused our identity: ${message}`, { cause: err });
  }
  return new LookoutError('OPCUA_UNAVAILABLE', message, { cause: err });
}

/**
 * A trust list that pins the configured server certificates by SHA-256 and trusts nothing else (node-opcua's
 * own store writes a PKI tree to disk, and would need a directory we own). The library also runs its own
 * certificate through here at start (a sanity check): ours is trusted for that.
 */
function pinnedTrust(credentials: ClientCredentials) {
  const trusted = new Set([...credentials.trusted, fingerprint(credentials.certificate)]);
  const leaf = (certificate: Buffer | Buffer[]) => {
    const der = Array.isArray(certificate) ? certificate[0]! : certificate;
    return fingerprint(crypto_utils.split_der(der)[0] ?? der);
  };
  return {
    referenceCounter: 0,
    initialize: async () => undefined,
    dispose: async () => undefined,
    checkCertificate: async (c: Buffer | Buffer[]) => (trusted.has(leaf(c)) ? StatusCodes.Good : StatusCodes.BadCertificateUntrusted),
    verifyCertificate: async (c: Buffer | Buffer[]) => (trusted.has(leaf(c)) ? 'Good' : 'BadCertificateUntrusted'),
    getTrustStatus: async (c: Buffer) => (trusted.has(leaf(c)) ? StatusCodes.Good : StatusCodes.BadCertificateUntrusted),
    trustCertificate: async () => undefined,
    rejectCertificate: async () => undefined,
    addIssuer: async () => undefined,
    addRevocationList: async () => undefined,
  };
}

let routed = false;

/**
 * node-opcua writes its warnings and errors with console.log; they go to our logger instead (debug level:
 * they repeat what our own log lines say, in the library's words). Its NODE-OPCUA-W27 start-up notice about
 * `--security-revert=CVE-2023-46809` concerns RSA PKCS#1 v1.5 encryption, used only by the Basic128Rsa15
 * policy, which we do not offer: it is dropped.
 */
export function routeLibraryLogs(log: Logger): void {
  if (routed) return;
  routed = true;
  const sink = (level: 'warn' | 'error') => (_context: unknown, ...args: unknown[]) => {
    const text = stripVTControlCharacters(format(...args));
    if (/NODE-OPCUA-W27|CVE-2023-46809/.test(text)) return;
    log.debug({ source: 'node-opcua', libraryLevel: level }, text.slice(0, 2_000));
  };
  setWarningLogger(sink('warn'));
  setErrorLogger(sink('error'));
}
