import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LookoutError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { httpError, httpStatusOf, sendError } from './http-io.js';

export type Method = 'GET' | 'POST';

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** Decoded path parameters, in pattern order. */
  readonly params: readonly string[];
}

export interface Route {
  readonly method: Method;
  /** Anchored; capture groups become `params`. */
  readonly pattern: RegExp;
  /** Reachable without the bearer token (only /healthz and the login endpoint). */
  readonly open?: boolean;
  handle(ctx: RequestContext): Promise<void> | void;
}

export type Match =
  | { kind: 'found'; route: Route; params: string[] }
  | { kind: 'wrong-method'; allow: Method[] }
  /** A route's pattern matched but a parameter is not valid percent-encoding. */
  | { kind: 'malformed' }
  | { kind: 'none' };

/** Finds the route for a method and path; HEAD is served by the GET route. */
export function matchRoute(routes: readonly Route[], method: string, pathname: string): Match {
  const allow = new Set<Method>();
  const wanted = method === 'HEAD' ? 'GET' : method;
  for (const route of routes) {
    const m = route.pattern.exec(pathname);
    if (!m) continue;
    if (route.method !== wanted) {
      allow.add(route.method);
      continue;
    }
    let params: string[];
    try {
      params = m.slice(1).map((p) => decodeURIComponent(p ?? ''));
    } catch {
      return { kind: 'malformed' };
    }
    return { kind: 'found', route, params };
  }
  return allow.size > 0 ? { kind: 'wrong-method', allow: [...allow] } : { kind: 'none' };
}

/** The 405 for a path whose routes take other methods; `details.allow` becomes the Allow header (HEAD with GET). */
export function methodNotAllowed(method: string | undefined, pathname: string, allowed: readonly Method[]): LookoutError {
  const allow = allowed.includes('GET') ? [...allowed, 'HEAD'] : [...allowed];
  return httpError('METHOD_NOT_ALLOWED', `${method ?? ''} is not allowed on ${pathname} (allowed: ${allow.join(', ')})`, 405, { allow });
}

/**
 * A route table mounted inside another server (the status server mounts the review and report routes
 * behind its own host, origin and token checks): answers its own paths and returns true, returns false
 * for the rest, and answers its own errors.
 */
export type Mount = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;

export interface MountOptions {
  readonly routes: readonly Route[];
  readonly log: Logger;
  /**
   * Paths this mount owns beyond its routes: answered with `notFound()` (or a 400 for bad percent-encoding)
   * instead of being left to the next mount.
   */
  readonly owns?: (pathname: string) => boolean;
  readonly notFound?: (pathname: string) => LookoutError;
}

export function mountRoutes(options: MountOptions): Mount {
  const { routes, log, owns = () => false } = options;
  const notFound = options.notFound ?? ((pathname: string) => httpError('NOT_FOUND', `no route ${pathname}`));
  return async (req, res, url) => {
    const path = url.pathname;
    const match = matchRoute(routes, req.method ?? 'GET', path);
    if (match.kind === 'none' && !owns(path)) return false;
    try {
      if (match.kind === 'none') throw notFound(path);
      if (match.kind === 'malformed') throw httpError('COMMAND_INVALID', `malformed path ${path}`, 400);
      if (match.kind === 'wrong-method') throw methodNotAllowed(req.method, path, match.allow);
      await match.route.handle({ req, res, url, params: match.params });
    } catch (err) {
      const sent = sendError(res, err);
      if (httpStatusOf(sent) >= 500) log.warn({ method: req.method, path, err }, 'request failed');
    }
    return true;
  };
}
