/**
 * `npm run bench`: runs every bench/*.bench.ts, each in a fresh process of its own (one after the other,
 * so that a benchmark's heap, JIT and thread-pool state cannot slow the next one), prints one report, and
 * writes it to BENCHMARKS.md with the machine noted. `npm run bench -- outbox model` runs only the named
 * ones. A `--name=value` argument reaches the benchmarks as the environment variable BENCH_NAME
 * (`--soak-minutes=60` → BENCH_SOAK_MINUTES=60), the way they read their options. `run.ts --one <file>
 * <out.json>` is the child's side: it runs one module and writes its results.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './types.js';

const here = fileURLToPath(new URL('.', import.meta.url));

if (process.argv[2] === '--one') {
  const [file, out] = process.argv.slice(3) as [string, string];
  const mod = (await import(join(here, file))) as { run: () => Promise<BenchResult[]> };
  await writeFile(out, JSON.stringify(await mod.run()));
  process.exit(0);
}

/** One benchmark module in a child process (same Node flags as this one); its results or its error. */
async function runIsolated(file: string, dir: string): Promise<BenchResult[]> {
  const out = join(dir, `${basename(file)}.json`);
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--one', file, out], { stdio: ['ignore', 'inherit', 'inherit'] });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  if (code !== 0) throw new Error(`exited with code ${code}`);
  return JSON.parse(await readFile(out, 'utf8')) as BenchResult[];
}

const options = process.argv.slice(2).filter((a) => a.startsWith('--'));
for (const option of options) {
  const m = /^--([a-z][a-z0-9-]*)=(.*)$/.exec(option);
  if (!m) throw new Error(`unknown option ${option}: options are --name=value`);
  process.env[`BENCH_${(m[1] as string).replaceAll('-', '_').toUpperCase()}`] = m[2];
}
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const files = (await readdir(here)).filter((f) => f.endsWith('.bench.ts')).sort();
const sections: Array<{ name: string; results: BenchResult[]; error?: string }> = [];
const scratch = await mkdtemp(join(tmpdir(), 'le-bench-'));
try {
  for (const file of files) {
    const name = basename(file, '.bench.ts');
    if (only.length > 0 && !only.includes(name)) continue;
    process.stderr.write(`bench: ${name}…\n`);
    try {
      sections.push({ name, results: await runIsolated(file, scratch) });
    } catch (err) {
      sections.push({ name, results: [], error: err instanceof Error ? err.message : String(err) });
    }
  }
} finally {
  await rm(scratch, { recursive: true, force: true });
}

const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3));
const lines: string[] = [
  '# Benchmarks',
  '',
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
  'Every figure is measured against a baseline in the same run; ratio = value / baseline (or as stated).',
  '',
];
for (const s of sections) {
  lines.push(`## ${s.name}`, '');
  if (s.error) {
    lines.push(`Failed: ${s.error}`, '');
    continue;
  }
  lines.push('| measure | value | baseline | ratio | target |', '| --- | --- | --- | --- | --- |');
  for (const r of s.results) {
    const base = r.baseline ? `${r.baseline.name}: ${fmt(r.baseline.value)} ${r.unit}` : '';
    lines.push(`| ${r.name} | ${fmt(r.value)} ${r.unit} | ${base} | ${r.ratio !== undefined ? fmt(r.ratio) : ''} | ${r.target ?? ''} |`);
  }
  lines.push('');
}
const report = lines.join('\n');
process.stdout.write(`${report}\n`);
if (only.length === 0) await writeFile(join(here, '..', 'BENCHMARKS.md'), report);
process.exitCode = sections.some((s) => s.error) ? 1 : 0;
