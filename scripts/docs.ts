/**
 * `npm run docs`: rewrites the generated parts of README.md (configuration reference, error codes)
 * from their sources. test/docs/readme.generated.test.ts fails when they drift.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { configReferenceMarkdown } from '../src/config/reference.js';
import { errorTableMarkdown } from '../src/core/error-table.js';

export const SECTIONS = {
  'config-reference': configReferenceMarkdown,
  'error-codes': errorTableMarkdown,
} as const;

export function replaceSection(text: string, name: string, body: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`README.md has no ${start} … ${end} section`);
  return `${text.slice(0, a + start.length)}\n${body}\n${text.slice(b)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = new URL('../README.md', import.meta.url);
  let text = await readFile(path, 'utf8');
  for (const [name, render] of Object.entries(SECTIONS)) text = replaceSection(text, name, render());
  await writeFile(path, text);
}
