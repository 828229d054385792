// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Transport SDKs may be imported only by adapter modules: files under an `adapters/` folder.
 * Everything else talks to them through the narrow interfaces those adapters implement.
 */
export const TRANSPORT_SDKS = [
  '@grpc/grpc-js',
  '@grpc/proto-loader',
  'sharp',
  'libsql',
  'mqtt',
  'aedes',
  'aws-iot-device-sdk-v2',
  'aws-crt',
  'onnxruntime-node',
  'node-onvif-ts',
  'node-opcua-*',
  '@aws-sdk/*',
  '@smithy/*',
];

const sdkPatterns = TRANSPORT_SDKS.map((name) => ({
  group: [name, `${name}/*`],
  message: 'Transport SDKs are imported only in adapter modules (a folder named adapters/).',
}));

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
    files: ['src/**/*.ts', 'deploy/**/*.ts', 'component/**/*.ts', 'test/lint/fixtures/**/*.ts'],
    ignores: ['**/adapters/**'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: sdkPatterns }] },
  },
  {
    // Tests and benchmarks drive real peers directly (subscribers, image generators).
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
