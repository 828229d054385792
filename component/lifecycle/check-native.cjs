'use strict';
/* global require, process, console, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS run by the device's node before anything else */
// Loads every native module of an unpacked lookout-edge app with the Node that runs this script.
//   node check-native.cjs <app dir>
// Exit 0: all load. Exit 2: only better-sqlite3 fails (rebuildable on the device). Exit 1: anything else.
const path = require('node:path');
const { createRequire } = require('node:module');

const app = path.resolve(process.argv[2] || path.join(__dirname, '..'));
const load = createRequire(path.join(app, 'package.json'));

const checks = {
  'better-sqlite3': () => {
    const Database = load('better-sqlite3');
    new Database(':memory:').close();
  },
  sharp: () => load('sharp'),
  'onnxruntime-node': () => load('onnxruntime-node'),
  'aws-crt': () => load('aws-crt'),
};

const failed = [];
for (const [name, check] of Object.entries(checks)) {
  try {
    check();
    console.log(`ok      ${name}`);
  } catch (err) {
    if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(`'${name}'`)) {
      console.log(`absent  ${name}`);
      continue;
    }
    failed.push(name);
    console.log(`FAILED  ${name}: ${String((err && err.message) || err).split('\n')[0]}`);
  }
}
process.exitCode = failed.length === 0 ? 0 : failed.length === 1 && failed[0] === 'better-sqlite3' ? 2 : 1;
