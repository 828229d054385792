/**
 * Where a process's main thread spent its busy time, from a .cpuprofile (bench/cpu-profile-preload.mjs, or Chrome's):
 * self time by file (node_modules folded to their package) and by function, as shares of the busy (non-idle) time.
 *
 *   npx tsx bench/profile-summary.ts <file.cpuprofile> [--skip SECONDS] [--top N]
 *
 * --skip leaves out the first seconds (start-up: module loading, JIT warm-up) to see the steady state.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { skip: { type: 'string', default: '0' }, top: { type: 'string', default: '25' } } });
const file = positionals[0];
if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [--skip SECONDS] [--top N]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const skipUs = Number(values.skip) * 1e6;
const top = Number(values.top);

const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
let elapsed = 0;
profile.samples.forEach((id, i) => {
  elapsed += profile.timeDeltas[i] ?? 0;
  if (elapsed >= skipUs) selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});

/** `nm/<package>` for code under node_modules, the path inside the repository otherwise, or V8's own label. */
const place = (url: string, name: string): string => {
  const nm = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (nm) return `nm/${nm[1]}`;
  return url.replace(/^file:\/\/.*?\/(src|bench|test)\//, '$1/') || name;
};

const byFile = new Map<string, number>();
const byFunction = new Map<string, number>();
let busy = 0;
let idle = 0;
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = (nodes.get(id) as ProfileNode).callFrame;
  if (functionName === '(idle)') {
    idle += us;
    continue;
  }
  busy += us;
  const where = place(url, functionName);
  byFile.set(where, (byFile.get(where) ?? 0) + us);
  const fn = url ? `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}` : where;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
}

const table = (m: Map<string, number>): string =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => `${((100 * us) / busy).toFixed(1).padStart(5)}%  ${k}`)
    .join('\n');
console.log(`busy ${(busy / 1000).toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms (after the first ${values.skip} s)`);
console.log(`\nby file\n${table(byFile)}\n\nby function\n${table(byFunction)}`);
