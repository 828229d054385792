import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;

/**
 * A stage reaches an adapter through its port: only composition files name a concrete adapter, and only
 * adapters load an SDK, whether by `import`, `import()`, `typeof import()`, `require` or `createRequire`.
 * The snippets are linted in memory under the path they would have.
 */
describe('lint: stages reach adapters through ports', () => {
  const eslint = new ESLint({ cwd: root, ignore: false });
  const STAGE = 'src/sources/folder/example-stage.ts';
  const COMPOSITION = 'src/cli/example-command.ts';
  const FACTORY = 'src/sources/folder/create-example-source.ts';
  const ADAPTER = 'src/sources/adapters/example-adapter.ts';

  async function boundaryMessages(code: string, filePath: string): Promise<string[]> {
    const [result] = await eslint.lintText(code, { filePath });
    return result!.messages
      .filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports' || m.ruleId === 'no-restricted-syntax')
      .map((m) => m.message);
  }

  const adapterForms: Record<string, string> = {
    'a static import': "import { readFrame } from '../adapters/folder-reader.js';\nexport const x = readFrame;\n",
    "an import from another area's adapters": "import { SqliteOutbox } from '../../outbox/adapters/sqlite-outbox.js';\nexport const x = SqliteOutbox;\n",
    'a re-export': "export { createPromMetrics } from '../../status/adapters/prom-metrics.js';\n",
    'a type-only import': "import type { OnvifProfileInfo } from '../adapters/onvif-device.js';\nexport type X = OnvifProfileInfo;\n",
    'a dynamic import()': "export const load = () => import('../adapters/onvif-device.js');\n",
    'a dynamic import() of a template literal': 'export const load = () => import(`../adapters/onvif-device.js`);\n',
    'a typeof import() type': "export type Device = typeof import('../adapters/onvif-device.js');\n",
    'a require()': "declare const require: (id: string) => unknown;\nexport const x = require('../adapters/folder-reader.js');\n",
    'an import = require()': "import reader = require('../adapters/folder-reader.js');\nexport const x = reader;\n",
    'an export *': "export * from '../adapters/folder-reader.js';\n",
  };

  for (const [form, code] of Object.entries(adapterForms)) {
    it(`fails a stage that names a concrete adapter by ${form}`, async () => {
      const messages = await boundaryMessages(code, STAGE);
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatch(/composition files/);
    });

    it(`allows a composition file (a command, a create-* factory) to name a concrete adapter by ${form}`, async () => {
      expect(await boundaryMessages(code, COMPOSITION)).toEqual([]);
      expect(await boundaryMessages(code, FACTORY)).toEqual([]);
    });
  }

  const sdkForms: Record<string, string> = {
    'a dynamic import() of sharp': "export const load = () => import('sharp');\n",
    'a dynamic import() of a scoped SDK': "export const load = () => import('@grpc/grpc-js');\n",
    'a dynamic import() of an SDK subpath': "export const load = () => import('node-opcua-client/dist/index.js');\n",
    'createRequire(...)(...)': "import { createRequire } from 'node:module';\nexport const db = createRequire(import.meta.url)('better-sqlite3');\n",
    'a require made by createRequire': "import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\nexport const bus = require('modbus-serial');\n",
    'a typeof import() type': "export type Sharp = typeof import('sharp');\n",
  };

  for (const [form, code] of Object.entries(sdkForms)) {
    it(`fails a stage and a composition file that load an SDK by ${form}`, async () => {
      for (const filePath of [STAGE, COMPOSITION]) {
        const messages = await boundaryMessages(code, filePath);
        expect(messages.some((m) => /adapter modules/.test(m))).toBe(true);
      }
    });

    it(`allows an adapter to load an SDK by ${form}`, async () => {
      expect(await boundaryMessages(code, ADAPTER)).toEqual([]);
    });
  }

  it('fails createRequire outside adapters, whatever it then loads', async () => {
    const code = "import { createRequire } from 'node:module';\nconst load = createRequire(import.meta.url);\nexport const x = load('./anything.js');\n";
    expect(await boundaryMessages(code, STAGE)).toEqual([expect.stringMatching(/createRequire is for adapter modules/)]);
  });

  it('allows a stage to import ports, core and its own modules, statically or not', async () => {
    const code = [
      "import type { FrameSource } from '../frame-source.js';",
      "import { LookoutError } from '../../core/errors.js';",
      "import { readFile } from 'node:fs/promises';",
      "export const load = () => import('./folder-watch.js');",
      'export type S = FrameSource;',
      'export const e = [LookoutError, readFile];',
      '',
    ].join('\n');
    expect(await boundaryMessages(code, STAGE)).toEqual([]);
  });

  it('keeps an exception only for a file that still names an adapter (the list only shrinks)', async () => {
    const config = (await import(new URL('../../eslint.config.js', import.meta.url).href)) as { PORT_EXCEPTIONS: string[] };
    for (const file of config.PORT_EXCEPTIONS) {
      const code = await readFile(join(root, file), 'utf8');
      // The same text at a stage path beside it: relative imports read the same.
      const messages = await boundaryMessages(code, join(dirname(file), '__ports-probe.ts'));
      expect(messages, file).not.toEqual([]);
    }
  });

  it('excepts no stage that runs in the inspector or the model server: only offline training reads images directly', async () => {
    const config = (await import(new URL('../../eslint.config.js', import.meta.url).href)) as { PORT_EXCEPTIONS: string[] };
    expect(config.PORT_EXCEPTIONS.filter((file) => !file.startsWith('src/model-server/train/'))).toEqual([]);
  });
});
