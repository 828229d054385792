import type { IncomingMessage, ServerResponse } from 'node:http';

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
      return { kind: 'none' };
    }
    return { kind: 'found', route, params };
  }
  return allow.size > 0 ? { kind: 'wrong-method', allow: [...allow] } : { kind: 'none' };
}
