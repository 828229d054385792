import type { EventEmitter } from 'node:events';
import { type IncomingMessage, type Server, type ServerOptions, type ServerResponse, createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { StatusConfig } from '../config/schema.js';
import { sleep } from '../core/deadline.js';
import { LookoutError, toLookoutError } from '../core/errors.js';
import type { InspectorControl, InspectorEvents } from '../core/inspector-status.js';
import type { Logger } from '../core/log.js';
import type { Verdict } from '../core/verdict.js';
import { isLoopbackHost, statusRuleProblems } from '../config/slices/status.js';
import { isAuthorized, presentedToken } from './auth.js';
import { AuthThrottle } from './auth-throttle.js';
import { renderLogin } from './dashboard/login.js';
import { EventStream } from './event-stream.js';
import { assessHealth } from './health.js';
import { httpError, httpStatusOf, send, sendError } from './http-io.js';
import type { StatusMetrics } from './metrics.js';
import { type Mount, matchRoute, methodNotAllowed } from './router.js';
import { buildRoutes } from './routes.js';
import { limitConnections } from './connection-limit.js';
import { refuseCrossOrigin, refuseForeignHost } from './request-origin.js';
import { SecureResponse, TlsSecureResponse } from './secure-response.js';
import { readTlsPair } from './tls-files.js';

export interface StatusServerDeps {
  readonly config: StatusConfig;
  readonly control: InspectorControl;
  readonly events: EventEmitter<InspectorEvents>;
  /** The server adds `{stage: 'status'}` and an `{stage: 'audit'}` child for state changes. */
  readonly log: Logger;
  /** What /metrics serves (the composition root passes prom-client's, adapters/prom-metrics.ts). */
  readonly metrics: StatusMetrics;
  /**
   * More route handlers (evidence review, defect reports), tried in order for paths no built-in route
   * knows, behind the same token check. Each returns false when the path is not its own.
   */
  readonly mounts?: readonly Mount[];
}

export interface StatusServer {
  start(): Promise<void>;
  stop(reason?: string): Promise<void>;
  /** Where it listens (after start): the real port when configured with 0. */
  address(): { host: string; port: number; url: string };
}

const STOP_GRACE_MS = 1_000;
/** Wrong tokens one address may present per minute; more are answered 429 (the right token still passes). */
const AUTH_LIMITS = { maxFailures: 10, windowMs: 60_000, maxAddresses: 4096 } as const;
const MAX_HEADER_BYTES = 16 * 1024;
/** Below this a token is guessable at the throttled rate (tens a second per address): warned at start-up. */
const MIN_TOKEN_CHARS = 16;
/** How long a token from an address past the limit waits before it is checked (the connection caps bound how many wait). */
const THROTTLED_DELAY_MS = 500;

/**
 * The operator surface over HTTP. Loopback by default; on any other address a bearer token is
 * required and enforced on every route but /healthz. Handlers never crash the process: a failure
 * answers 500 JSON with a code.
 */
export function createStatusServer(deps: StatusServerDeps): StatusServer {
  const { config, control, events } = deps;
  // The schema already refused these; a config built without it is refused here with the same words.
  const problems = statusRuleProblems(config).map(([path, message]) => `status.${path}: ${message}`);
  if (problems.length > 0) throw new LookoutError('CONFIG_INVALID', problems.join('; '), { details: { problems } });
  const log = deps.log.child({ stage: 'status' });
  const audit = deps.log.child({ stage: 'audit' });
  const { metrics } = deps;
  const stream = new EventStream({ maxClients: config.maxEventClients, maxBacklogBytes: config.maxEventBacklogBytes, log });
  const throttle = new AuthThrottle(AUTH_LIMITS);
  const secure = config.tls !== undefined;
  const routes = buildRoutes({ config, control, metrics, stream, audit });

  let server: Server | undefined;
  const sockets = new Set<Socket>();
  let ticker: NodeJS.Timeout | undefined;
  let bound: AddressInfo | undefined;

  const onVerdict = (verdict: Verdict): void => {
    try {
      metrics.observeVerdict(verdict);
      stream.broadcast('verdict', verdict, verdict.id);
    } catch (err) {
      log.error({ err: toLookoutError(err).toJSON() }, 'verdict listener failed');
    }
  };
  const onPreview = (cameraId: string, verdictId: string): void => {
    try {
      stream.broadcast('preview', { camera: cameraId, verdictId });
    } catch (err) {
      log.error({ err: toLookoutError(err).toJSON() }, 'preview listener failed');
    }
  };
  const tick = (): void => {
    if (stream.size === 0) return;
    try {
      const status = control.status();
      stream.broadcast('status', { status, health: assessHealth(status) });
    } catch (err) {
      log.error({ err: toLookoutError(err).toJSON() }, 'status snapshot failed');
      stream.heartbeat();
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://status.invalid');
    res.on('finish', () => {
      log.debug({ method: req.method, path: url.pathname, status: res.statusCode, ms: Math.round(performance.now() - started) }, 'http');
    });
    const client = req.socket.remoteAddress ?? 'unknown';
    // requests that try a token (not a browser's first visit, which carries none) are counted and throttled
    const triesToken = config.token !== undefined && (presentedToken(req) !== undefined || url.pathname === '/api/session');
    // The right token passes from any address, so one guesser behind a NAT does not lock out the operators
    // behind it; but once an address is past the limit every token it presents, the right one too, waits a
    // little before it is checked: an answer that came sooner for the right token would let a guesser stop
    // waiting for the others, and the connection caps then bound how many guesses an address has in flight.
    const throttled = triesToken && throttle.retryAfterMs(client) > 0;
    if (throttled) await sleep(THROTTLED_DELAY_MS, undefined, { ref: false });
    try {
      const listen = { host: config.host, port: bound?.port ?? config.port, secure };
      const refused = (config.token === undefined ? refuseForeignHost(req, listen) : undefined) ?? refuseCrossOrigin(req, secure);
      if (refused) throw refused;
      const match = matchRoute(routes, req.method ?? 'GET', url.pathname);
      if (match.kind === 'none' || match.kind === 'malformed') {
        if (deps.mounts?.length) {
          if (!isAuthorized(req, config.token)) throw new LookoutError('UNAUTHORIZED', 'a bearer token is required');
          for (const mount of deps.mounts) if (await mount(req, res, url)) return;
        }
        throw httpError('NOT_FOUND', `no route ${req.method ?? ''} ${url.pathname}`);
      }
      if (match.kind === 'wrong-method') throw methodNotAllowed(req.method, url.pathname, match.allow);
      if (!match.route.open && !isAuthorized(req, config.token)) {
        if (url.pathname === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
          const page = renderLogin();
          send(res, 401, 'text/html; charset=utf-8', page.html, page.headers);
          return;
        }
        throw new LookoutError('UNAUTHORIZED', 'a bearer token is required');
      }
      await match.route.handle({ req, res, url, params: match.params });
    } catch (err) {
      let e = toLookoutError(err);
      if (e.code === 'UNAUTHORIZED' && httpStatusOf(e) === 401 && triesToken) e = throttle.refuseWrongToken(client, throttled, e);
      const sent = sendError(res, e);
      const line = { method: req.method, path: url.pathname, err: sent.toJSON() };
      if (httpStatusOf(sent) >= 500) log.error({ ...line, cause: e.cause instanceof Error ? e.cause.message : undefined }, 'request failed');
      else log.info(line, 'request refused');
    }
  };

  const address = (): { host: string; port: number; url: string } => {
    if (!bound) throw new LookoutError('INTERNAL', 'status server is not started');
    const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
    return { host: bound.address, port: bound.port, url: `${secure ? 'https' : 'http'}://${host}:${bound.port}` };
  };

  return {
    async start() {
      if (server) return;
      const options: ServerOptions = {
        headersTimeout: Math.min(config.headersTimeoutMs, config.requestTimeoutMs),
        requestTimeout: config.requestTimeoutMs,
        maxHeaderSize: MAX_HEADER_BYTES,
        ServerResponse: SecureResponse,
        keepAliveTimeout: config.keepAliveTimeoutMs,
        // How often header/request timeouts are checked (Node's default, 30 s, would make them lax).
        connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(config.headersTimeoutMs / 2))),
      };
      // A TLS handshake gets no longer than the request headers would (Node's default is 120 s).
      const s: Server = config.tls
        ? createHttpsServer({ ...options, ...(await readTlsPair(config.tls)), ServerResponse: TlsSecureResponse, handshakeTimeout: config.headersTimeoutMs })
        : createServer(options);
      if (config.token !== undefined && config.token.length < MIN_TOKEN_CHARS) {
        log.warn({ key: 'status.token', minLength: MIN_TOKEN_CHARS }, 'status.token is short: the right token always passes, so a guesser is slowed, never stopped; use a long random one (openssl rand -hex 16)');
      }
      if (!config.tls && !isLoopbackHost(config.host)) {
        log.warn({ host: config.host, key: 'status.tls' }, 'status server is not on loopback and speaks plain HTTP: its token and session cookie cross the network in clear; set status.tls.certFile and status.tls.keyFile');
      }
      limitConnections(s, config, log);
      // every accepted socket, a TLS one still in its handshake included (closeAllConnections knows only HTTP ones)
      s.on('connection', (socket: Socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
      });
      s.on('request', (req: IncomingMessage, res: ServerResponse) => {
        req.on('error', () => undefined);
        res.on('error', () => undefined);
        handle(req, res).catch((err: unknown) => {
          log.error({ err: toLookoutError(err).toJSON() }, 'request handler escaped');
          res.destroy();
        });
      });
      s.on('clientError', (err: NodeJS.ErrnoException, socket) => {
        const status =
          err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
        // A failed TLS handshake (https forwards it here) gets no HTTP answer: there is no channel to send it on.
        const http = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code?.startsWith('HPE_') === true;
        if (http && socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
        else socket.destroy();
      });
      await new Promise<void>((resolve, reject) => {
        const onError = (err: NodeJS.ErrnoException): void => {
          reject(new LookoutError('CONFIG_INVALID', `status server cannot listen on ${config.host}:${config.port}: ${err.code ?? err.message}`, { cause: err }));
        };
        s.once('error', onError);
        s.listen(config.port, config.host, () => {
          s.off('error', onError);
          resolve();
        });
      });
      s.on('error', (err) => log.error({ err: toLookoutError(err).toJSON() }, 'status server error'));
      server = s;
      bound = s.address() as AddressInfo;
      events.on('verdict', onVerdict);
      events.on('preview', onPreview);
      ticker = setInterval(tick, config.statusIntervalMs);
      ticker.unref();
      log.info({ url: address().url, auth: config.token !== undefined }, 'status server listening');
    },

    async stop(reason = 'stop') {
      const s = server;
      if (!s) return;
      server = undefined;
      events.off('verdict', onVerdict);
      events.off('preview', onPreview);
      clearInterval(ticker);
      stream.closeAll();
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      s.closeIdleConnections();
      const grace = setTimeout(() => {
        s.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      }, STOP_GRACE_MS);
      await closed;
      clearTimeout(grace);
      log.info({ reason }, 'status server stopped');
    },

    address,
  };
}
