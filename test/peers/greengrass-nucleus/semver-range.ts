/**
 * The subset of npm-style semver ranges Greengrass recipes use in `ComponentDependencies.VersionRequirement`.
 *
 * Source: component-recipe-reference, "VersionRequirement — the version constraint … uses the npm-style syntax"
 * (e.g. `>=1.0.0 <2.0.0`, `^1.2.0`, `~1.2.3`, `1.x`). The nucleus (KernelConfigResolver, DependencyResolver) uses
 * semver4j's NPM mode. Supported here: comparators `= > >= < <=`, `^`, `~`, `x`/`*` wildcards, space = AND,
 * `||` = OR. Pre-release tags compare lower than the release (no npm "same tuple" pre-release rule: uncertain,
 * and no recipe of ours uses pre-releases).
 */

type Triple = [number, number, number, string];

export function parseVersion(text: string): Triple | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(text.trim());
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3]), m[4] ?? ''];
}

export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  if (!x || !y) throw new Error(`not a semantic version: ${!x ? a : b}`);
  for (let i = 0; i < 3; i += 1) {
    const d = (x[i] as number) - (y[i] as number);
    if (d !== 0) return Math.sign(d);
  }
  if (x[3] === y[3]) return 0;
  if (x[3] === '') return 1;
  if (y[3] === '') return -1;
  return x[3] < y[3] ? -1 : 1;
}

/** Expands a partial version (`1`, `1.2`, `1.x`) into [lower bound inclusive, upper bound exclusive]. */
function partial(text: string): { parts: number[] } {
  const parts: number[] = [];
  for (const p of text.replace(/^v/, '').split('.')) {
    if (p === 'x' || p === 'X' || p === '*' || p === '') break;
    parts.push(Number(p));
  }
  return { parts };
}

function v(parts: number[]): string {
  return `${parts[0] ?? 0}.${parts[1] ?? 0}.${parts[2] ?? 0}`;
}

function satisfiesComparator(version: string, comp: string): boolean {
  if (comp === '' || comp === '*' || comp === 'x') return true;
  const m = /^(\^|~|>=|<=|>|<|=)?\s*(.+)$/.exec(comp);
  if (!m) return false;
  const op = m[1] ?? '=';
  const target = m[2] ?? '';
  const full = parseVersion(target);
  const { parts } = partial(target.split('-')[0] ?? target);
  const base = full ? target : v(parts);
  switch (op) {
    case '>=':
      return compareVersions(version, base) >= 0;
    case '>':
      if (full) return compareVersions(version, base) > 0;
      return compareVersions(version, v(bump(parts, parts.length - 1))) >= 0;
    case '<':
      return compareVersions(version, base) < 0;
    case '<=':
      if (full) return compareVersions(version, base) <= 0;
      return compareVersions(version, v(bump(parts, parts.length - 1))) < 0;
    case '^': {
      const idx = parts[0] !== 0 || parts.length === 1 ? 0 : parts[1] !== 0 || parts.length === 2 ? 1 : 2;
      return compareVersions(version, base) >= 0 && compareVersions(version, v(bump(parts, idx))) < 0;
    }
    case '~': {
      const idx = parts.length >= 2 ? 1 : 0;
      return compareVersions(version, base) >= 0 && compareVersions(version, v(bump(parts, idx))) < 0;
    }
    default:
      if (full) return compareVersions(version, target) === 0;
      if (parts.length === 0) return true;
      return compareVersions(version, v(parts)) >= 0 && compareVersions(version, v(bump(parts, parts.length - 1))) < 0;
  }
}

function bump(parts: number[], index: number): number[] {
  const out = parts.slice(0, index + 1).map((n) => n ?? 0);
  while (out.length < index + 1) out.push(0);
  out[index] = (out[index] ?? 0) + 1;
  return out;
}

/** True when `version` satisfies the npm-style `range`. */
export function satisfies(version: string, range: string): boolean {
  if (!parseVersion(version)) return false;
  return range.split('||').some((alternative) => {
    const comps = alternative.trim().replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1').split(/\s+/).filter(Boolean);
    // hyphen range "1.0.0 - 2.0.0"
    if (comps.length === 3 && comps[1] === '-') return satisfiesComparator(version, `>=${comps[0]}`) && satisfiesComparator(version, `<=${comps[2]}`);
    return comps.every((c) => satisfiesComparator(version, c));
  });
}
