import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { replaceSection, SECTIONS } from '../../scripts/docs.js';

/** The README's generated sections (configuration reference, error codes) match their sources. */
describe('README generated sections', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  it.each(Object.entries(SECTIONS))('%s is up to date (run `npm run docs`)', (name, render) => {
    expect(replaceSection(readme, name, render())).toBe(readme);
  });
});
