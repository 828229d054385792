import { z } from 'zod';
import type { InspectorControl, InspectorStatus } from '../core/inspector-status.js';
import type { Logger } from '../core/log.js';
import type { Verdict } from '../core/verdict.js';
import type { StatusConfig } from '../config/schema.js';
import { identifier } from '../config/slices/common.js';
import { withDeadline } from '../core/deadline.js';
import { LookoutError, toLookoutError } from '../core/errors.js';
import { PART_ID_PATTERN, PART_ID_RULE } from '../core/frame.js';
import { sessionCookie, tokensEqual } from './auth.js';
import { renderDashboard } from './dashboard/page.js';
import type { EventStream } from './event-stream.js';
import { assessHealth } from './health.js';
import { httpError, readJsonBody, send, sendJson } from './http-io.js';
import type { StatusMetrics } from './metrics.js';
import type { RequestContext, Route } from './router.js';

export interface RouteDeps {
  readonly config: StatusConfig;
  readonly control: InspectorControl;
  readonly metrics: StatusMetrics;
  readonly stream: EventStream;
  /** `{stage: 'audit'}` child: one line per state change, whoever asked. */
  readonly audit: Logger;
}

const triggerBody = z.strictObject({ partId: z.string().regex(PART_ID_PATTERN, PART_ID_RULE).optional() });
const emptyBody = z.strictObject({});
const thresholdBody = z.strictObject({
  camera: z.union([z.literal('*'), identifier]),
  /** A score threshold in [0,1], or null to drop the override. */
  threshold: z.number().min(0).max(1).nullable(),
});
const sessionBody = z.strictObject({ token: z.string().min(1).max(4096) });

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`);
    throw httpError('COMMAND_INVALID', `invalid request: ${problems.join('; ')}`, 400, { problems });
  }
  return result.data;
}

function requireCamera(status: InspectorStatus, id: string | undefined): string {
  if (id === undefined || !identifier.safeParse(id).success || !status.cameras.some((c) => c.id === id)) {
    throw httpError('NOT_FOUND', `no camera ${JSON.stringify(id ?? '')}`);
  }
  return id;
}

/** The route table. Every state change is a POST with a JSON body; GETs only read. */
export function buildRoutes(deps: RouteDeps): Route[] {
  const { config, control, metrics, stream, audit } = deps;

  const audited = async <T>(action: string, camera: string, work: () => Promise<T> | T): Promise<T> => {
    try {
      const result = await work();
      audit.info({ via: 'http', action, camera, outcome: 'ok' }, `http ${action} ${camera}`);
      return result;
    } catch (err) {
      const e = toLookoutError(err);
      audit.warn({ via: 'http', action, camera, outcome: 'error', error: { code: e.code, message: e.message } }, `http ${action} ${camera} failed`);
      throw e;
    }
  };

  const cameraAction = (action: 'pause' | 'resume'): Route => ({
    method: 'POST',
    pattern: new RegExp(`^/api/cameras/([^/]+)/${action}$`),
    async handle({ req, res, params }) {
      parseBody(emptyBody, await readJsonBody(req, config.maxBodyBytes));
      const camera = requireCamera(control.status(), params[0]);
      await audited(action, camera, () => (action === 'pause' ? control.pauseCamera(camera) : control.resumeCamera(camera)));
      sendJson(res, 200, { camera, paused: action === 'pause' });
    },
  });

  return [
    {
      method: 'GET',
      pattern: /^\/healthz$/,
      open: true,
      handle: ({ res }) => sendJson(res, 200, { ok: true }),
    },
    {
      method: 'GET',
      pattern: /^\/readyz$/,
      handle({ res }) {
        const health = assessHealth(control.status());
        sendJson(res, health.ready ? 200 : 503, health);
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/status$/,
      handle: ({ res }) => sendJson(res, 200, control.status()),
    },
    {
      method: 'GET',
      pattern: /^\/metrics$/,
      async handle({ res }) {
        const { contentType, body } = await metrics.render(control.status());
        send(res, 200, contentType, body);
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/events$/,
      handle({ req, res }) {
        if (req.method === 'HEAD') {
          send(res, 200, 'text/event-stream; charset=utf-8', '');
          return;
        }
        const status = control.status();
        if (!stream.accept(res, { event: 'status', data: { status, health: assessHealth(status) } })) {
          throw httpError('QUEUE_FULL', `already ${config.maxEventClients} live clients; try again later`, 503);
        }
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/cameras\/([^/]+)\/latest\.jpg$/,
      async handle({ req, res, params }) {
        const camera = requireCamera(control.status(), params[0]);
        const preview = await control.latestPreview(camera);
        if (!preview) throw httpError('NOT_FOUND', `camera ${camera} has no inspected frame yet`);
        const etag = `"${preview.verdictId.replace(/[^A-Za-z0-9._:-]/g, '')}"`;
        if (req.headers['if-none-match'] === etag) {
          res.writeHead(304, { etag, 'cache-control': 'no-cache' });
          res.end();
          return;
        }
        send(res, 200, 'image/jpeg', preview.jpeg, { etag, 'cache-control': 'no-cache' });
      },
    },
    {
      method: 'POST',
      pattern: /^\/api\/cameras\/([^/]+)\/trigger$/,
      async handle({ req, res, params }) {
        const body = parseBody(triggerBody, await readJsonBody(req, config.maxBodyBytes));
        const camera = requireCamera(control.status(), params[0]);
        const verdict: Verdict = await audited('trigger', camera, () =>
          withDeadline(control.inspectNow(camera, body.partId), config.triggerTimeoutMs, `inspection of ${camera}`, 'OPERATION_TIMEOUT'),
        );
        sendJson(res, 200, verdict);
      },
    },
    cameraAction('pause'),
    cameraAction('resume'),
    {
      method: 'POST',
      pattern: /^\/api\/threshold$/,
      async handle({ req, res }) {
        const body = parseBody(thresholdBody, await readJsonBody(req, config.maxBodyBytes));
        const camera = body.camera === '*' ? '*' : requireCamera(control.status(), body.camera);
        await audited('set-threshold', camera, () => control.setThreshold(camera, body.threshold));
        sendJson(res, 200, { camera, threshold: body.threshold });
      },
    },
    {
      // The dashboard's login: exchanges the token for an HttpOnly, SameSite=Strict cookie so the page's
      // images and live events carry it. Open, because it is how a browser gets authorized.
      method: 'POST',
      pattern: /^\/api\/session$/,
      open: true,
      async handle({ req, res }) {
        const body = parseBody(sessionBody, await readJsonBody(req, config.maxBodyBytes));
        if (config.token === undefined || !tokensEqual(body.token, config.token)) {
          audit.warn({ via: 'http', action: 'login', outcome: 'error', code: 'UNAUTHORIZED' }, 'dashboard login refused');
          throw new LookoutError('UNAUTHORIZED', 'wrong token');
        }
        sendJson(res, 200, { ok: true }, { 'set-cookie': sessionCookie(body.token, config.tls !== undefined) });
      },
    },
    {
      method: 'GET',
      pattern: /^\/$/,
      handle({ res }) {
        const page = renderDashboard();
        send(res, 200, 'text/html; charset=utf-8', page.html, page.headers);
      },
    },
  ];
}

export type { RequestContext };
