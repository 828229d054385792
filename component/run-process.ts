import { spawn } from 'node:child_process';
import { LookoutError } from '../src/core/errors.js';

export interface RunResult {
  code: number | null;
  output: string;
}

/** Runs a child process with a deadline; keeps the last 64 KiB of its output for error messages. */
export function runProcess(command: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-65_536);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new LookoutError('INTERNAL', `${command} ${args.join(' ')} took longer than ${options.timeoutMs} ms`, { details: { output: output.slice(-2000) } }));
    }, options.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new LookoutError('INTERNAL', `cannot start ${command}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
