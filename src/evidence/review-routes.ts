import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../core/log.js';
import type { EvidenceStore, ReviewInput } from './evidence-store.js';
import { HttpError, type RouteHandler, readJsonBody, requireMethod, sendBody, sendError, sendJson } from './http.js';
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
const FILE_ROUTE = /^\/api\/evidence\/([^/]+)\/(frame\.jpg|mask\.png)$/;
const REVIEW_ROUTE = /^\/api\/evidence\/([^/]+)\/review$/;
const ITEM_ROUTE = /^\/api\/evidence\/([^/]+)$/;

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
    throw new HttpError(400, 'COMMAND_INVALID', 'status must be unreviewed, reviewed or all');
  }
  const limitText = url.searchParams.get('limit') ?? '50';
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST) throw new HttpError(400, 'COMMAND_INVALID', `limit must be 1-${MAX_LIST}`);
  const camera = url.searchParams.get('camera');
  const before = url.searchParams.get('before');
  let cursor: EvidenceQuery['before'];
  if (before) {
    const at = before.indexOf(':');
    const keptAt = Number(before.slice(0, at));
    if (at < 1 || !Number.isInteger(keptAt)) throw new HttpError(400, 'COMMAND_INVALID', 'before must be <keptAt>:<id>');
    cursor = { keptAt, id: before.slice(at + 1) };
  }
  return { status, limit, ...(camera ? { cameraId: camera } : {}), ...(cursor ? { before: cursor } : {}) };
}

function parseReview(body: unknown): ReviewInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'PAYLOAD_INVALID', 'the body must be a JSON object');
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !['label', 'maskPng', 'acceptMask', 'reviewer'].includes(k));
  if (unknown.length) throw new HttpError(400, 'PAYLOAD_INVALID', `unknown field(s): ${unknown.join(', ')}`);
  if (b.label !== 'normal' && b.label !== 'anomaly') throw new HttpError(400, 'PAYLOAD_INVALID', "label must be 'normal' or 'anomaly'");
  if (b.reviewer !== undefined && (typeof b.reviewer !== 'string' || !REVIEWER.test(b.reviewer))) {
    throw new HttpError(400, 'PAYLOAD_INVALID', 'reviewer must be 1-128 letters, digits, spaces or ._@+-');
  }
  if (b.acceptMask !== undefined && typeof b.acceptMask !== 'boolean') throw new HttpError(400, 'PAYLOAD_INVALID', 'acceptMask must be a boolean');
  let maskPng: Buffer | undefined;
  if (b.maskPng !== undefined) {
    if (typeof b.maskPng !== 'string') throw new HttpError(400, 'PAYLOAD_INVALID', 'maskPng must be a base64 string');
    if (b.label !== 'anomaly') throw new HttpError(400, 'PAYLOAD_INVALID', 'a mask belongs to an anomaly only');
    const base64 = b.maskPng.replace(/^data:image\/png;base64,/, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) throw new HttpError(400, 'PAYLOAD_INVALID', 'maskPng is not base64');
    maskPng = Buffer.from(base64, 'base64');
  }
  return {
    label: b.label,
    ...(maskPng ? { maskPng } : {}),
    ...(typeof b.acceptMask === 'boolean' ? { acceptMask: b.acceptMask } : {}),
    ...(typeof b.reviewer === 'string' ? { reviewer: b.reviewer } : {}),
  };
}

function decodeId(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, 'COMMAND_INVALID', 'malformed id');
  }
}

/**
 * Operator review over HTTP, mounted inside the status server (which enforces the bearer token off
 * loopback). Returns false for paths that are not its own.
 *
 * GET /review · GET /api/evidence?status=&limit=&camera=&before= · GET /api/evidence/stats ·
 * GET /api/evidence/:id · GET /api/evidence/:id/frame.jpg|mask.png[?source=model] ·
 * POST /api/evidence/:id/review {label, maskPng?, acceptMask?, reviewer?}
 */
export function createReviewRoutes(deps: ReviewRoutesDeps): RouteHandler {
  const maxBody = deps.maxBodyBytes ?? 8 * 1024 * 1024;
  const log = deps.log;

  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    const path = url.pathname;
    if (path !== '/review' && path !== '/api/evidence' && !path.startsWith('/api/evidence/')) return false;
    try {
      if (path === '/review') {
        requireMethod(req, ['GET', 'HEAD']);
        sendBody(res, 200, 'text/html; charset=utf-8', reviewPage(), { 'content-security-policy': "default-src 'self'; img-src 'self' blob: data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'" });
        return true;
      }
      if (path === '/api/evidence') {
        requireMethod(req, ['GET', 'HEAD']);
        const query = parseQuery(url);
        const items = deps.store.list(query);
        const last = items.at(-1);
        const next = items.length === query.limit && last ? `${last.keptAt}:${last.id}` : null;
        sendJson(res, 200, { items: items.map(evidenceSummary), next });
        return true;
      }
      if (path === '/api/evidence/stats') {
        requireMethod(req, ['GET', 'HEAD']);
        sendJson(res, 200, deps.store.stats());
        return true;
      }
      let m = FILE_ROUTE.exec(path);
      if (m) {
        requireMethod(req, ['GET', 'HEAD']);
        const id = decodeId(m[1]!);
        const isFrame = m[2] === 'frame.jpg';
        const which = isFrame ? 'frame' : url.searchParams.get('source') === 'model' ? 'model-mask' : 'mask';
        const bytes = await deps.store.readFile(id, which);
        sendBody(res, 200, isFrame ? 'image/jpeg' : 'image/png', bytes);
        return true;
      }
      m = REVIEW_ROUTE.exec(path);
      if (m) {
        requireMethod(req, ['POST']);
        const id = decodeId(m[1]!);
        const input = parseReview(await readJsonBody(req, maxBody));
        const { record, audit } = await deps.store.review(id, input);
        sendJson(res, 200, { item: evidenceSummary(record), audit });
        return true;
      }
      m = ITEM_ROUTE.exec(path);
      if (m) {
        requireMethod(req, ['GET', 'HEAD']);
        const id = decodeId(m[1]!);
        const record = deps.store.get(id);
        if (!record) throw new HttpError(404, 'EVIDENCE_NOT_FOUND', `no kept frame ${id}`);
        sendJson(res, 200, { item: evidenceSummary(record), verdict: record.verdict, audit: deps.store.audit(id) });
        return true;
      }
      throw new HttpError(404, 'EVIDENCE_NOT_FOUND', 'no such evidence route');
    } catch (err) {
      if (!(err instanceof HttpError)) log.warn({ err, path }, 'evidence route failed');
      sendError(res, err);
      return true;
    }
  };
}
