import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/**
 * The environment recipe.yaml's Run step sets for the inspector (Lifecycle.Run.Setenv, without the entries
 * the nucleus interpolates: paths), so a bench measures the process the device runs (libuv's thread pool
 * size, malloc arenas, V8 flags).
 */
export function recipeRunEnv(): Record<string, string> {
  const recipe = parseYaml(readFileSync(new URL('../recipe.yaml', import.meta.url), 'utf8')) as {
    Manifests: Array<{ Lifecycle?: { Run?: { Setenv?: Record<string, string> } } }>;
  };
  const setenv = recipe.Manifests[0]?.Lifecycle?.Run?.Setenv ?? {};
  return Object.fromEntries(Object.entries(setenv).filter(([, value]) => !value.includes('{')));
}
