import { randomBytes } from 'node:crypto';

// The HTML pages the status server serves: self-contained, with the headers that allow only what they hold.

export interface RenderedPage {
  readonly html: string;
  readonly headers: Record<string, string>;
}

/**
 * Inline script and style only, allowed by a per-response nonce; nothing from the network but us.
 * `imgSrc`: where images may come from (default `'self' data:`).
 */
export function securityHeaders(nonce: string, imgSrc = "'self' data:"): Record<string, string> {
  return {
    'content-security-policy': [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      `style-src 'nonce-${nonce}'`,
      `img-src ${imgSrc}`,
      "connect-src 'self'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'x-frame-options': 'DENY',
    'cache-control': 'no-store',
  };
}

/** A self-contained page: its style and script inline under a fresh nonce, with the headers that allow only those. */
export function selfContainedPage(o: {
  readonly title: string;
  readonly css: string;
  readonly body: string;
  readonly script: string;
  readonly bodyAttributes?: string;
  /** See securityHeaders. */
  readonly imgSrc?: string;
}): RenderedPage {
  const nonce = randomBytes(16).toString('base64');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title}</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">${o.css}</style>
</head>
<body${o.bodyAttributes ? ` ${o.bodyAttributes}` : ''}>
${o.body}
<script nonce="${nonce}">${o.script}</script>
</body>
</html>
`;
  return { html, headers: securityHeaders(nonce, o.imgSrc) };
}
