/**
 * Parses `WWW-Authenticate` headers (RFC 9110 §11.6.1): one or more challenges, each a scheme and
 * auth-params `name=token` or `name="quoted \"string\""`. Values may contain `=` and `,` inside
 * quotes (nonces often end in base64 padding).
 */
export interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;

export function parseChallenges(header: string): Challenge[] {
  const out: { scheme: string; params: Record<string, string> }[] = [];
  let i = 0;
  const skipSpace = (): void => {
    while (i < header.length && (header[i] === ' ' || header[i] === '\t')) i += 1;
  };
  const token = (): string | undefined => {
    TOKEN.lastIndex = i;
    const m = TOKEN.exec(header);
    if (!m) return undefined;
    i = TOKEN.lastIndex;
    return m[0];
  };
  while (i < header.length) {
    skipSpace();
    if (header[i] === ',') {
      i += 1;
      continue;
    }
    const word = token();
    if (word === undefined) {
      i += 1;
      continue;
    }
    skipSpace();
    const current = out.at(-1);
    if (header[i] === '=' && current) {
      // an auth-param of the current challenge (a token68 with '=' padding is not supported)
      i += 1;
      skipSpace();
      let value = '';
      if (header[i] === '"') {
        i += 1;
        while (i < header.length && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < header.length) i += 1;
          value += header[i];
          i += 1;
        }
        i += 1;
      } else {
        value = token() ?? '';
      }
      current.params[word.toLowerCase()] = value;
    } else {
      out.push({ scheme: word.toLowerCase(), params: {} });
    }
  }
  return out;
}
