import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { safeStem } from '../../src/core/safe-name.js';

/** What every stem must be: a plain name that stays in its folder. */
function expectContained(stem: string): void {
  expect(stem).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_.~-]*$|^~[0-9a-f]{8}$/);
  expect(stem).not.toContain('..');
  expect(stem).not.toContain('/');
  expect(stem).not.toContain('\0');
  expect(stem.length).toBeLessThanOrEqual(109);
  expect(basename(join('/store/frames', `${stem}.jpg`))).toBe(`${stem}.jpg`);
}

describe('safeStem: one file-name rule for masks, evidence and dataset exports', () => {
  it('keeps an id that is already a safe name as it is', () => {
    for (const id of ['cam1-1733412345678-7', 'line_3.cam-A', 'x']) expect(safeStem(id)).toBe(id);
  });

  it('never leaves the folder: dots, slashes, backslashes and NUL become _ and a hash follows', () => {
    const cases = ['..', '../../etc/passwd', '/abs/path', 'a/../b', 'a\\..\\b', 'a\0b', '.hidden', '...', 'a..b'];
    for (const id of cases) {
      const stem = safeStem(id);
      expectContained(stem);
      expect(stem).toMatch(/~[0-9a-f]{8}$/);
    }
    expect(safeStem('../../etc/passwd').startsWith('_')).toBe(true);
  });

  it('keeps distinct ids distinct even when they map to the same characters', () => {
    const ids = ['a/b', 'a_b', 'a:b', 'a\0b', 'a b', 'a\u00e9b', 'a\u00e8b'];
    const stems = ids.map(safeStem);
    expect(new Set(stems).size).toBe(ids.length);
    // the id that needed no change keeps its plain name
    expect(stems[1]).toBe('a_b');
  });

  it('turns non-ASCII characters (accents, CJK, emoji, right-to-left marks) into _', () => {
    for (const id of ['caf\u00e9', '\u68c0\u67e5-1', 'part-\u{1F36A}', 'x\u202Egpj.exe']) {
      const stem = safeStem(id);
      expectContained(stem);
      expect(stem).toMatch(/^[\x20-\x7e]+$/);
    }
  });

  it('bounds the length, and long ids sharing their first 100 characters stay distinct', () => {
    const long = 'a'.repeat(500);
    const stem = safeStem(long);
    expectContained(stem);
    expect(stem.startsWith('a'.repeat(100))).toBe(true);
    expect(stem).toHaveLength(109);
    expect(safeStem(`${long}b`)).not.toBe(stem);
    expect(safeStem('a'.repeat(100))).toBe('a'.repeat(100));
  });

  it('gives an empty id a name of its own', () => {
    const stem = safeStem('');
    expectContained(stem);
    expect(stem).toMatch(/^~[0-9a-f]{8}$/);
  });
});
