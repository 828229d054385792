import type { Logger } from '../core/log.js';
import { httpError, readJsonBody, send, sendJson } from '../status/http-io.js';
import { type Mount, mountRoutes, type Route } from '../status/router.js';
import type { EvidenceStore, ReviewInput } from './evidence-store.js';
import { reviewPage } from './review-page.js';
import type { EvidenceQuery, EvidenceRecord } from './types.js';

/** What the review routes need from the store. */
export type ReviewStore = Pick<EvidenceStore, 'list' | 'get' | 'audit' | 'readFile' | 'review' | 'stats'>;

export interface ReviewRoutesDeps {
  readonly store: ReviewStore;
  readonly log: Logger;
  /** Largest accepted review body (a painted mask travels base64 inside it). Default 8 MiB. */
  readonly maxBodyBytes?: number;
}

const MAX_LIST = 500;
const REVIEWER = /^[\p{L}\p{N} ._@+-]{1,128}$/u;

/** The JSON an item is listed as; URLs are relative to the server root. */
export function evidenceSummary(r: EvidenceRecord): Record<string, unknown> {
  const id = encodeURIComponent(r.id);
  return {
    id: r.id,
    cameraId: r.cameraId,
    partId: r.partId,
    modelComponent: r.modelComponent,
    modelVersion: r.modelVersion,
    outcome: r.outcome,
    basis: r.verdict.basis,
    isAnomalous: r.isAnomalous,
    score: r.score,
    threshold: r.threshold,
    confidence: r.confidence,
    anomalies: r.verdict.anomalies,
    reason: r.reason,
    capturedAt: r.capturedAt,
    keptAt: r.keptAt,
    width: r.width,
    height: r.height,
    hasModelMask: r.maskPath !== null,
    hasReviewMask: r.reviewMaskPath !== null,
    label: r.label,
    maskSource: r.maskSource,
    reviewer: r.reviewer,
    reviewedAt: r.reviewedAt,
    frameUrl: `/api/evidence/${id}/frame.jpg`,
    maskUrl: r.maskPath || r.reviewMaskPath ? `/api/evidence/${id}/mask.png` : null,
  };
}

function parseQuery(url: URL): EvidenceQuery {
  const status = url.searchParams.get('status') ?? 'unreviewed';
  if (status !== 'unreviewed' && status !== 'reviewed' && status !== 'all') {
    throw httpError('COMMAND_INVALID', 'status must be unreviewed, reviewed or all');
  }
  const limitText = url.searchParams.get('limit') ?? '50';
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST) throw httpError('COMMAND_INVALID', `limit must be 1-${MAX_LIST}`);
  const camera = url.searchParams.get('camera');
  const before = url.searchParams.get('before');
  let cursor: EvidenceQuery['before'];
  if (before) {
    const at = before.indexOf(':');
    const keptAt = Number(before.slice(0, at));
    if (at < 1 || !Number.isInteger(keptAt)) throw httpError('COMMAND_INVALID', 'before must be <keptAt>:<id>');
    cursor = { keptAt, id: before.slice(at + 1) };
  }
  return { status, limit, ...(camera ? { cameraId: camera } : {}), ...(cursor ? { before: cursor } : {}) };
}

function parseReview(body: unknown): ReviewInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw httpError('PAYLOAD_INVALID', 'the body must be a JSON object');
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !['label', 'maskPng', 'acceptMask', 'reviewer'].includes(k));
  if (unknown.length) throw httpError('PAYLOAD_INVALID', `unknown field(s): ${unknown.join(', ')}`);
  if (b.label !== 'normal' && b.label !== 'anomaly') throw httpError('PAYLOAD_INVALID', "label must be 'normal' or 'anomaly'");
  if (b.reviewer !== undefined && (typeof b.reviewer !== 'string' || !REVIEWER.test(b.reviewer))) {
    throw httpError('PAYLOAD_INVALID', 'reviewer must be 1-128 letters, digits, spaces or ._@+-');
  }
  if (b.acceptMask !== undefined && typeof b.acceptMask !== 'boolean') throw httpError('PAYLOAD_INVALID', 'acceptMask must be a boolean');
  let maskPng: Buffer | undefined;
  if (b.maskPng !== undefined) {
    if (typeof b.maskPng !== 'string') throw httpError('PAYLOAD_INVALID', 'maskPng must be a base64 string');
    if (b.label !== 'anomaly') throw httpError('PAYLOAD_INVALID', 'a mask belongs to an anomaly only');
    const base64 = b.maskPng.replace(/^data:image\/png;base64,/, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) throw httpError('PAYLOAD_INVALID', 'maskPng is not base64');
    maskPng = Buffer.from(base64, 'base64');
  }
  return {
    label: b.label,
    ...(maskPng ? { maskPng } : {}),
    ...(typeof b.acceptMask === 'boolean' ? { acceptMask: b.acceptMask } : {}),
    ...(typeof b.reviewer === 'string' ? { reviewer: b.reviewer } : {}),
  };
}

/** Paths under the review's prefixes that no route knows are its own 404s, not the next mount's. */
const ownsPath = (path: string): boolean => path === '/review' || path === '/api/evidence' || path.startsWith('/api/evidence/');

/**
 * Operator review over HTTP, mounted inside the status server (which enforces the bearer token off
 * loopback). Returns false for paths that are not its own.
 *
 * GET /review · GET /api/evidence?status=&limit=&camera=&before= · GET /api/evidence/stats ·
 * GET /api/evidence/:id · GET /api/evidence/:id/frame.jpg|mask.png[?source=model] ·
 * POST /api/evidence/:id/review {label, maskPng?, acceptMask?, reviewer?}
 */
export function createReviewRoutes(deps: ReviewRoutesDeps): Mount {
  const maxBody = deps.maxBodyBytes ?? 8 * 1024 * 1024;
  const { store } = deps;
  const routes: Route[] = [
    {
      method: 'GET',
      pattern: /^\/review$/,
      handle: ({ res }) => {
        const page = reviewPage();
        send(res, 200, 'text/html; charset=utf-8', page.html, page.headers);
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/evidence$/,
      handle: ({ res, url }) => {
        const query = parseQuery(url);
        const items = store.list(query);
        const last = items.at(-1);
        const next = items.length === query.limit && last ? `${last.keptAt}:${last.id}` : null;
        sendJson(res, 200, { items: items.map(evidenceSummary), next });
      },
    },
    { method: 'GET', pattern: /^\/api\/evidence\/stats$/, handle: ({ res }) => sendJson(res, 200, store.stats()) },
    {
      method: 'GET',
      pattern: /^\/api\/evidence\/([^/]+)\/(frame\.jpg|mask\.png)$/,
      handle: async ({ res, url, params: [id, file] }) => {
        const isFrame = file === 'frame.jpg';
        const which = isFrame ? 'frame' : url.searchParams.get('source') === 'model' ? 'model-mask' : 'mask';
        send(res, 200, isFrame ? 'image/jpeg' : 'image/png', await store.readFile(id!, which));
      },
    },
    {
      method: 'POST',
      pattern: /^\/api\/evidence\/([^/]+)\/review$/,
      handle: async ({ req, res, params: [id] }) => {
        const input = parseReview(await readJsonBody(req, maxBody));
        const { record, audit } = await store.review(id!, input);
        sendJson(res, 200, { item: evidenceSummary(record), audit });
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/evidence\/([^/]+)$/,
      handle: ({ res, params: [id] }) => {
        const record = store.get(id!);
        if (!record) throw httpError('EVIDENCE_NOT_FOUND', `no kept frame ${id!}`);
        sendJson(res, 200, { item: evidenceSummary(record), verdict: record.verdict, audit: store.audit(id!) });
      },
    },
  ];
  return mountRoutes({ routes, log: deps.log, owns: ownsPath, notFound: () => httpError('EVIDENCE_NOT_FOUND', 'no such evidence route') });
}
