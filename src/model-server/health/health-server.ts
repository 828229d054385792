import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StatusConfig } from '../../config/schema.js';
import { sleep } from '../../core/deadline.js';
import { LookoutError, toLookoutError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { isAuthorized, isLoopbackHost, presentedToken } from '../../status/auth.js';
import { AuthThrottle } from '../../status/auth-throttle.js';
import { httpError, httpStatusOf, send, sendError, sendJson } from '../../status/http-io.js';
import { type HttpListener, listenHttp } from '../../status/http-listener.js';
import { refuseForeignHost } from '../../status/request-origin.js';
import { matchRoute, methodNotAllowed, type Route } from '../../status/router.js';
import type { ModelServerMetrics } from './metrics.js';
import { assessReadiness, type ModelServerSnapshot } from './readiness.js';

export interface HealthServerDeps {
  /** The `status` slice, read as the inspector reads it: host, port, token, timeouts. */
  readonly config: StatusConfig;
  readonly snapshot: () => ModelServerSnapshot;
  readonly metrics: ModelServerMetrics;
  readonly log: Logger;
}

const AUTH_LIMITS = { maxFailures: 10, windowMs: 60_000, maxAddresses: 4096 } as const;
/** Scrapers and probes only: a handful of connections at once is plenty (status.maxConnections when lower). */
const MAX_CONNECTIONS = 32;
const STOP_GRACE_MS = 500;
/** As the status server: past the limit every token an address presents waits this long before it is checked. */
const THROTTLED_DELAY_MS = 500;

/**
 * The model server's health endpoint, built from the inspector's HTTP pieces (router, JSON answers,
 * bearer token, throttle): `GET /healthz` (the process answers; open), `GET /readyz` (200 when the gRPC
 * server listens and every startOnBoot model is RUNNING, else 503 with the reasons), `GET /metrics`.
 * Loopback by default; on any other address a token is required on every route but /healthz. Without a
 * token only loopback Host names are answered (DNS rebinding); wrong tokens are throttled per address
 * while the right one always passes, as on the status server. Plain HTTP only: `status.tls` is refused.
 */
export class HealthServer {
  private listener: HttpListener | undefined;
  private readonly throttle = new AuthThrottle(AUTH_LIMITS);
  private readonly routes: Route[];

  constructor(private readonly deps: HealthServerDeps) {
    const { config } = deps;
    if (!isLoopbackHost(config.host) && config.token === undefined) {
      const problem = `status.token: required when status.host (${config.host}) is not a loopback address`;
      throw new LookoutError('CONFIG_INVALID', problem, { details: { problems: [problem] } });
    }
    if (config.tls !== undefined) {
      const problem = 'status.tls: the model server\'s health endpoint speaks plain HTTP only; keep it on loopback and scrape it locally';
      throw new LookoutError('CONFIG_INVALID', problem, { details: { problems: [problem] } });
    }
    this.routes = [
      { method: 'GET', pattern: /^\/healthz$/, open: true, handle: ({ res }) => sendJson(res, 200, { ok: true }) },
      {
        method: 'GET',
        pattern: /^\/readyz$/,
        handle: ({ res }) => {
          const readiness = assessReadiness(deps.snapshot());
          sendJson(res, readiness.ready ? 200 : 503, readiness);
        },
      },
      {
        method: 'GET',
        pattern: /^\/metrics$/,
        handle: async ({ res }) => {
          const { contentType, body } = await deps.metrics.render(deps.snapshot());
          send(res, 200, contentType, body);
        },
      },
    ];
  }

  address(): { host: string; port: number; url: string } {
    if (!this.listener) throw new LookoutError('INTERNAL', 'health server is not started');
    return { host: this.listener.host, port: this.listener.port, url: this.listener.url };
  }

  async start(): Promise<void> {
    if (this.listener) return;
    const { config, log } = this.deps;
    this.listener = await listenHttp({
      name: 'health server',
      config: { ...config, maxConnections: Math.min(config.maxConnections, MAX_CONNECTIONS) },
      log,
      handle: (req, res) => this.handle(req, res),
    });
    log.info({ url: this.listener.url, auth: config.token !== undefined }, 'health server listening');
  }

  async stop(): Promise<void> {
    const listener = this.listener;
    this.listener = undefined;
    await listener?.close(STOP_GRACE_MS);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { config, log } = this.deps;
    const url = new URL(req.url ?? '/', 'http://health.invalid');
    const client = req.socket.remoteAddress ?? 'unknown';
    const triesToken = config.token !== undefined && presentedToken(req) !== undefined;
    const throttled = triesToken && this.throttle.retryAfterMs(client) > 0;
    if (throttled) await sleep(THROTTLED_DELAY_MS, undefined, { ref: false });
    try {
      const refused = config.token === undefined ? refuseForeignHost(req, { host: config.host, port: this.listener?.port ?? config.port, secure: false }) : undefined;
      if (refused) throw refused;
      const match = matchRoute(this.routes, req.method ?? 'GET', url.pathname);
      if (match.kind === 'none' || match.kind === 'malformed') throw httpError('NOT_FOUND', `no route ${req.method ?? ''} ${url.pathname}`);
      if (match.kind === 'wrong-method') throw methodNotAllowed(req.method, url.pathname, match.allow);
      if (!match.route.open && !isAuthorized(req, config.token)) throw new LookoutError('UNAUTHORIZED', 'a bearer token is required');
      await match.route.handle({ req, res, url, params: match.params });
    } catch (err) {
      let e = toLookoutError(err);
      if (e.code === 'UNAUTHORIZED' && triesToken) e = this.throttle.refuseWrongToken(client, throttled, e);
      const sent = sendError(res, e);
      if (httpStatusOf(sent) >= 500) log.error({ path: url.pathname, err: sent.toJSON() }, 'health request failed');
    }
  }
}
