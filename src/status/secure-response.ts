import { type IncomingMessage, ServerResponse } from 'node:http';

/**
 * The headers every response of the status server carries, whatever route (built-in or mounted:
 * review, report) answers: no framing by another site, no type sniffing, no referrer, and our
 * bytes (previews, evidence images) not embeddable elsewhere. A route may set a richer
 * Content-Security-Policy for its page; `frame-ancestors 'none'` is added to it when missing.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
};

const CSP = 'content-security-policy';

/** A policy that forbids framing, whatever else it says. */
export function denyFraming(policy: string): string {
  return /(^|;)\s*frame-ancestors\s/i.test(policy) ? policy : `${policy.replace(/;\s*$/, '')}; frame-ancestors 'none'`;
}

/**
 * The response class of the status server (`createServer({ServerResponse})`): the one place the
 * security headers are set. `writeHead(status, headers)` goes through `setHeader` once any header is
 * set, so a route's own CSP passes here too.
 */
export class SecureResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  constructor(req: Request) {
    super(req);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) super.setHeader(name, value);
  }

  override setHeader(name: string, value: number | string | readonly string[]): this {
    if (name.toLowerCase() === CSP) {
      const policies = (Array.isArray(value) ? value : [String(value)]) as string[];
      return super.setHeader(name, policies.map(denyFraming));
    }
    return super.setHeader(name, value);
  }
}

/** Browsers that once reached us over HTTPS keep to it for a year (no includeSubDomains: a device name). */
export const HSTS = 'max-age=31536000';

/** The response class when the server speaks TLS: the same headers plus Strict-Transport-Security. */
export class TlsSecureResponse<Request extends IncomingMessage = IncomingMessage> extends SecureResponse<Request> {
  constructor(req: Request) {
    super(req);
    this.setHeader('strict-transport-security', HSTS);
  }
}
