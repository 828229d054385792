import { ERROR_CATALOGUE } from './errors.js';

/** The README's error-code table, generated from the catalogue. */
export function errorTableMarkdown(): string {
  const rows = Object.entries(ERROR_CATALOGUE).map(([code, spec]) => `| \`${code}\` | ${spec.retryable ? 'yes' : 'no'} | ${spec.description} |`);
  return ['| code | retryable | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}
