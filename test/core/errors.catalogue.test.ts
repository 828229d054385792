import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, LookoutError, toLookoutError } from '../../src/core/errors.js';

/** The README's "Error codes" table lists exactly the catalogue's codes, with the same retryable flag. */
describe('error catalogue', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.split('## Error codes')[1]?.split('\n## ')[0] ?? '';
  const rows = [...section.matchAll(/^\| `([A-Z_]+)` \| (yes|no) \|/gm)].map((m) => [m[1], m[2] === 'yes'] as const);

  it('is documented in the README, code by code', () => {
    expect(rows.map(([code]) => code).sort()).toEqual(Object.keys(ERROR_CATALOGUE).sort());
    for (const [code, retryable] of rows) {
      expect({ code, retryable }).toEqual({ code, retryable: ERROR_CATALOGUE[code as keyof typeof ERROR_CATALOGUE].retryable });
    }
  });

  it('carries code, retryable and cause', () => {
    const cause = new Error('ECONNREFUSED');
    const err = new LookoutError('INFERENCE_UNAVAILABLE', 'model server down', { cause });
    expect(err).toMatchObject({ code: 'INFERENCE_UNAVAILABLE', retryable: true, cause });
    expect(toLookoutError(cause, 'PUBLISH_FAILED')).toMatchObject({ code: 'PUBLISH_FAILED', retryable: true, cause });
    expect(toLookoutError(err)).toBe(err);
  });
});
