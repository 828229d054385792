'use strict';
/* global require, process, console, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS run by the shipped node before anything else */
// Loads every native module of an unpacked lookout-edge app with the Node that runs this script.
//   node check-native.cjs <app dir>
// Exit 0: all load. Exit 1: one or more do not (each is named).
const path = require('node:path');
const { createRequire } = require('node:module');

const app = path.resolve(process.argv[2] || path.join(__dirname, '..'));
const load = createRequire(path.join(app, 'package.json'));

const checks = {
  libsql: () => {
    const Database = load('libsql');
    new Database(':memory:').close();
  },
  sharp: () => load('sharp'),
  'onnxruntime-node': () => load('onnxruntime-node'),
  'aws-crt': () => load('aws-crt'),
};

let failed = 0;
for (const [name, check] of Object.entries(checks)) {
  try {
    check();
    console.log(`ok      ${name}`);
  } catch (err) {
    failed += 1;
    console.log(`FAILED  ${name}: ${String((err && err.message) || err).split('\n')[0]}`);
  }
}
process.exitCode = failed === 0 ? 0 : 1;
