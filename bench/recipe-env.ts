import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/**
 * The environment recipe.yaml's Run step sets for the inspector (Lifecycle.Run.Setenv, without the entries
 * the nucleus interpolates: paths), so a bench measures the process the device runs (libuv's thread pool
 * size, malloc arenas, V8 flags).
 */
export function recipeRunEnv(): Record<string, string | undefined> {
  const recipe = parseYaml(readFileSync(new URL('../recipe.yaml', import.meta.url), 'utf8')) as {
    Manifests: Array<{ Lifecycle?: { Run?: { Setenv?: Record<string, string> } } }>;
  };
  const setenv = recipe.Manifests[0]?.Lifecycle?.Run?.Setenv ?? {};
  return { ...Object.fromEntries(Object.entries(setenv).filter(([, value]) => !value.includes('{'))), ...benchEnvOverrides() };
}

/**
 * `BENCH_RUN_ENV='MALLOC_ARENA_MAX=4 UV_THREADPOOL_SIZE= NODE_OPTIONS=--import=p.mjs --max-semi-space-size=8'`:
 * entries that replace the recipe's for one run (an empty value unsets it: undefined, which spawn leaves out), to
 * measure what a setting costs or buys. An entry starts at each NAME=, so a value may hold spaces.
 */
function benchEnvOverrides(): Record<string, string | undefined> {
  const spec = process.env.BENCH_RUN_ENV?.trim();
  if (!spec) return {};
  return Object.fromEntries(
    spec.split(/\s+(?=[A-Za-z_][A-Za-z0-9_]*=)/).map((pair) => {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new Error(`BENCH_RUN_ENV: "${pair}" is not NAME=value`);
      return [pair.slice(0, eq), pair.slice(eq + 1) || undefined];
    }),
  );
}
