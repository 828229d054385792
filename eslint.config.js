// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Transport SDKs may be imported only by adapter modules: files under an `adapters/` folder.
 * Everything else talks to them through the narrow interfaces those adapters implement.
 */
export const TRANSPORT_SDKS = [
  '@grpc/*',
  'sharp',
  'libsql',
  'better-sqlite3',
  'mqtt',
  'aedes',
  'aws-iot-device-sdk-v2',
  'aws-crt',
  'onnxruntime-node',
  'node-onvif-ts',
  'modbus-serial',
  'node-opcua',
  'node-opcua-*',
  '@aws-sdk/*',
  '@smithy/*',
];

const SDK_MESSAGE = 'Transport SDKs are imported only in adapter modules (a folder named adapters/).';
const ADAPTER_MESSAGE =
  'A concrete adapter is named only by composition files (main.ts, cli/, demo/, create-*.ts); a stage receives it through its port.';

const sdkPatterns = TRANSPORT_SDKS.map((name) => ({ group: [name, `${name}/*`], message: SDK_MESSAGE }));
const adapterPattern = { regex: '(^|/)adapters(/|$)', message: ADAPTER_MESSAGE };

/**
 * `sharp`, `sharp/lib/x`, `@grpc/grpc-js`, `@aws-sdk/client-s3`… as one esquery regular expression over a module
 * name (esquery ends a regular expression at the first slash, so slashes are written \u002F).
 */
const SLASH = '\\u002F';
const escape = (text) =>
  text
    .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, `[^${SLASH}]*`)
    .replaceAll('/', SLASH);
const sdkSource = `/^(${TRANSPORT_SDKS.map(escape).join('|')})(${SLASH}|$)/`;
const adapterSource = `/(^|${SLASH})adapters(${SLASH}|$)/`;

/**
 * What `no-restricted-imports` does not see: `import('…')`, `typeof import('…')`, `require('…')` (also through
 * `createRequire(import.meta.url)`), each with a literal module name; and `createRequire` itself, which only an
 * adapter needs.
 */
const loaderSelectors = (source, message) => [
  { selector: `ImportExpression[source.value=${source}]`, message },
  { selector: `ImportExpression > TemplateLiteral.source[expressions.length=0][quasis.0.value.cooked=${source}]`, message },
  { selector: `TSImportType[source.value=${source}]`, message },
  { selector: `CallExpression[arguments.0.value=${source}]:matches([callee.name='require'], [callee.callee.name='createRequire'])`, message },
];
const createRequireSelector = {
  selector: "CallExpression[callee.name='createRequire']",
  message: 'createRequire is for adapter modules; elsewhere use import (the lint rules can follow it).',
};

const sdkRestricted = { patterns: sdkPatterns };
const portRestricted = { patterns: [...sdkPatterns, adapterPattern] };
const sdkSyntax = [...loaderSelectors(sdkSource, SDK_MESSAGE), createRequireSelector];
const portSyntax = [...sdkSyntax, ...loaderSelectors(adapterSource, ADAPTER_MESSAGE)];

/** Files that build concrete adapters and hand them to stages through their ports. */
export const COMPOSITION_FILES = [
  'src/main.ts',
  'src/inspector-service.ts',
  'src/cli/**/*.ts',
  'src/demo/**/*.ts',
  '{src,deploy,component}/**/create-*.ts',
  '{src,deploy,component}/**/*composition*.ts',
  '{src,deploy,component}/**/wiring.ts',
  // The runtime registry: builds each model runtime with its adapter (onnxruntime-node).
  'src/model-server/runtimes/index.ts',
];

/**
 * Stages that still name a concrete adapter, one entry per file; each entry goes when that file reaches its
 * adapter through a port. Do not add to this list.
 */
export const PORT_EXCEPTIONS = [
  // Offline training reads and writes images through model-server/train/adapters/image-io.ts (sharp)
  // directly; a port would thread through trainModel, evaluateModel, generateDataset and their callers.
  'src/model-server/train/evaluate.ts', // image-io
  'src/model-server/train/synthetic.ts', // image-io
  'src/model-server/train/training-set.ts', // image-io
];

export default tseslint.config(
  { ignores: ['test/lint/fixtures/**', 'dist/**', 'node_modules/**', 'greengrass-build/**', 'coverage/**', '.lookout-edge/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': 'error',
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    // Stages: no SDK and no concrete adapter, however it is loaded.
    files: ['src/**/*.ts', 'deploy/**/*.ts', 'component/**/*.ts', 'test/lint/fixtures/**/*.ts'],
    ignores: ['**/adapters/**', ...COMPOSITION_FILES, ...PORT_EXCEPTIONS],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', portRestricted],
      'no-restricted-syntax': ['error', ...portSyntax],
    },
  },
  {
    // Composition files (and, until they are rewritten, the listed exceptions) name adapters, never SDKs.
    files: [...COMPOSITION_FILES, ...PORT_EXCEPTIONS],
    ignores: ['**/adapters/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', sdkRestricted],
      'no-restricted-syntax': ['error', ...sdkSyntax],
    },
  },
  {
    // Tests and benchmarks drive real peers directly (subscribers, image generators).
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
