import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
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
import { type HttpListener, listenHttp } from './http-listener.js';
import type { StatusMetrics } from './metrics.js';
import { type Mount, matchRoute, methodNotAllowed } from './router.js';
import { buildRoutes } from './routes.js';
import { refuseCrossOrigin, refuseForeignHost } from './request-origin.js';
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

  let listener: HttpListener | undefined;
  let ticker: NodeJS.Timeout | undefined;

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
      const listen = { host: config.host, port: listener?.port ?? config.port, secure };
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
    if (!listener) throw new LookoutError('INTERNAL', 'status server is not started');
    return { host: listener.host, port: listener.port, url: listener.url };
  };

  return {
    async start() {
      if (listener) return;
      if (config.token !== undefined && config.token.length < MIN_TOKEN_CHARS) {
        log.warn({ key: 'status.token', minLength: MIN_TOKEN_CHARS }, 'status.token is short: the right token always passes, so a guesser is slowed, never stopped; use a long random one (openssl rand -hex 16)');
      }
      if (!config.tls && !isLoopbackHost(config.host)) {
        log.warn({ host: config.host, key: 'status.tls' }, 'status server is not on loopback and speaks plain HTTP: its token and session cookie cross the network in clear; set status.tls.certFile and status.tls.keyFile');
      }
      listener = await listenHttp({ name: 'status server', config, ...(config.tls ? { tls: await readTlsPair(config.tls) } : {}), log, handle });
      events.on('verdict', onVerdict);
      events.on('preview', onPreview);
      ticker = setInterval(tick, config.statusIntervalMs);
      ticker.unref();
      log.info({ url: address().url, auth: config.token !== undefined }, 'status server listening');
    },

    async stop(reason = 'stop') {
      const l = listener;
      if (!l) return;
      listener = undefined;
      events.off('verdict', onVerdict);
      events.off('preview', onPreview);
      clearInterval(ticker);
      stream.closeAll();
      await l.close(STOP_GRACE_MS);
      log.info({ reason }, 'status server stopped');
    },

    address,
  };
}
