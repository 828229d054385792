import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;

/** Only adapter modules may import transport SDKs; the fixtures prove the rule bites. */
describe('lint: SDK imports stay in adapters', () => {
  const eslint = new ESLint({ cwd: root, ignore: false });

  it('fails a stage module that imports sharp and grpc-js', async () => {
    const [result] = await eslint.lintFiles(['test/lint/fixtures/stage-imports-sdk.ts']);
    const hits = result!.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports');
    expect(hits).toHaveLength(2);
    expect(hits[0]!.message).toMatch(/adapter modules/);
  });

  it('allows the same import under an adapters/ folder', async () => {
    const [result] = await eslint.lintFiles(['test/lint/fixtures/adapters/sharp-adapter.ts']);
    expect(result!.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports')).toEqual([]);
  });
});
