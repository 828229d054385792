import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FROM_SOURCE } from '../helpers/cli-entry.js';

const run = promisify(execFile);

/**
 * Packages with native parts or large module graphs that only some commands need. Loading them costs
 * every process of the CLI memory: onnxruntime-node ~15 MB of RSS, aws-iot-device-sdk-v2 (aws-crt) ~20 MB,
 * aedes ~13 MB, node-opcua ~77 MB. The inspector (`run`) must load each only when its configuration
 * asks for it, so none may be in the static module graph of the CLI.
 */
const ON_DEMAND = ['onnxruntime-node', 'aws-iot-device-sdk-v2', 'aws-crt', 'aedes', 'node-opcua', 'node-opcua-client', 'node-opcua-server', 'node-onvif-ts'];

/** A module-resolution hook that records the package of every module resolved, one per line. */
const RECORDER = `
import { appendFileSync } from 'node:fs';
const out = process.env.LE_RESOLVED_LOG;
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(result.url);
  if (m) appendFileSync(out, m[1] + '\\n');
  return result;
}
`;

describe('the CLI loads heavy packages only for the commands that use them', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'le-lazy-'));
    await writeFile(join(dir, 'recorder.mjs'), RECORDER);
    await writeFile(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'recorder.mjs')).href)});\n`);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('`lookout-edge --version` (every command registered) resolves none of them', async () => {
    const log = join(dir, 'resolved.txt');
    await writeFile(log, '');
    const { stdout } = await run(process.execPath, [...FROM_SOURCE.slice(0, 2), '--import', pathToFileURL(join(dir, 'register.mjs')).href, ...FROM_SOURCE.slice(2), '--version'], {
      env: { ...process.env, LE_RESOLVED_LOG: log },
      timeout: 60_000,
    });
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const packages = new Set((await readFile(log, 'utf8')).split('\n').filter(Boolean));
    // The recorder works: the CLI's own packages are there.
    expect(packages).toContain('commander');
    expect(packages).toContain('sharp');
    expect([...packages].filter((p) => ON_DEMAND.includes(p))).toEqual([]);
  });
});
