import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { selfSigned } from '../helpers/tls.js';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;

/** Runs the real CLI in a child process, as a user would. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', ...args], { cwd: root, env: { ...process.env, AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT: '' } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('lookout-edge CLI', () => {
  it.each(['run', 'serve-model', 'train', 'evaluate', 'demo', 'deploy', 'config validate', 'config schema'])('%s --help', async (command) => {
    const { code, stdout } = await cli(...command.split(' '), '--help');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: lookout-edge /);
  });

  it('config validate prints all three mistakes with their paths and exits 78', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'le-cli-'));
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'status:\n  port: -1\ndecide:\n  failSafe: maybe\ncameras:\n  - id: "bad id!"\n    source: {type: folder, path: /in}\n');
    const { code, stderr } = await cli('config', 'validate', '--config', file);
    expect(code).toBe(78);
    expect(stderr).toMatch(/status\.port: /);
    expect(stderr).toMatch(/decide\.failSafe: /);
    expect(stderr).toMatch(/cameras\.0\.id: /);
  });

  it('config validate accepts a good file, with --set overriding it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'le-cli-'));
    const file = join(dir, 'good.json');
    await writeFile(file, JSON.stringify({ status: { port: 9000 } }));
    const { code, stdout } = await cli('config', 'validate', '--config', file, '--set', 'status.port=9001', '--print');
    expect(code).toBe(0);
    expect(JSON.parse(stdout).status.port).toBe(9001);
  });

  it('config validate refuses what run refuses: status.host 0.0.0.0 without a token exits 78', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'le-cli-'));
    const file = join(dir, 'open.yaml');
    await writeFile(file, 'status:\n  host: 0.0.0.0\n');
    const refused = await cli('config', 'validate', '--config', file);
    expect(refused.code).toBe(78);
    expect(refused.stderr).toMatch(/status\.token: required when status\.host \(0\.0\.0\.0\) is not a loopback address/);
    const withToken = await cli('config', 'validate', '--config', file, '--set', 'status.token=s3cret-token');
    expect(withToken.code).toBe(0);
    const disabled = await cli('config', 'validate', '--config', file, '--set', 'status.enabled=false');
    expect(disabled.code).toBe(0);
  });

  it('config validate reads status.tls as run does: a key that is not the certificate\'s exits 78', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'le-cli-'));
    const [a, b] = [await selfSigned(dir, 'a'), await selfSigned(dir, 'b')];
    const file = join(dir, 'tls.json');
    await writeFile(file, JSON.stringify({ status: { tls: { certFile: a.certFile, keyFile: b.keyFile } } }));
    const refused = await cli('config', 'validate', '--config', file);
    expect(refused.code).toBe(78);
    expect(refused.stderr).toMatch(/status\.tls\.keyFile: .*b\.key is not the private key of the certificate/);
    expect((await cli('config', 'validate', '--config', file, '--set', `status.tls.keyFile=${a.keyFile}`)).code).toBe(0);
  });

  it('config schema prints JSON Schema', async () => {
    const { code, stdout } = await cli('config', 'schema');
    expect(code).toBe(0);
    expect(JSON.parse(stdout).type).toBe('object');
  });

  it('an unknown command is a usage error (64)', async () => {
    const { code, stderr } = await cli('frobnicate');
    expect(code).toBe(64);
    expect(stderr).toMatch(/unknown command/);
  });

  it('an unreadable config file is a config error (78)', async () => {
    const { code, stderr } = await cli('config', 'validate', '--config', '/nonexistent/x.yaml');
    expect(code).toBe(78);
    expect(stderr).toMatch(/cannot read configuration file/);
  });
});
