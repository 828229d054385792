import { resolveConfiguration } from './configuration.js';
import { interpolateTree, type InterpolationTarget, type VariableContext } from './interpolation.js';
import { parseRecipe, type DevicePlatform, type Recipe } from './recipe.js';
import { compareVersions, satisfies } from './semver-range.js';
import type { ServiceDefinition } from './service.js';
import type { PosixUser } from './users.js';

/**
 * Resolving a deployment into service definitions (nucleus DependencyResolver + KernelConfigResolver).
 *
 * Facts:
 * - manage-deployments: a deployment to a target replaces that target's set of root components; components no
 *   longer in the dependency closure are stopped and removed.
 * - The closure follows `ComponentDependencies` (HARD and SOFT alike); every `VersionRequirement` on a component
 *   must hold for the version chosen, or the deployment fails (NoAvailableComponentVersionException) before
 *   anything changes on the device. A dependency that is not in the deployment keeps its installed version when
 *   that satisfies the requirements; otherwise the best version the cloud offers (CloudSide.listComponentVersions,
 *   optional) is taken.
 * - Configuration: configuration.ts. `runWith` given in the deployment replaces the stored one; otherwise the
 *   stored one is kept (KernelConfigResolver.updateRunWith).
 * - Lifecycle is interpolated with the resolved configurations (interpolation.ts).
 */

export interface DeploymentComponentSpec {
  componentVersion: string;
  configurationUpdate?: { merge?: string; reset?: string[] };
  runWith?: { posixUser?: string };
}

export interface InstalledInfo {
  version: string;
  recipeText: string;
  configuration: Record<string, unknown>;
  runWith?: { posixUser?: string };
}

export interface ResolveContext {
  platform: DevicePlatform;
  /** The nucleus's own version: aws.greengrass.Nucleus is always installed and running (the device runs it). */
  nucleusVersion: string;
  getRecipe(name: string, version: string): Promise<string>;
  listVersions?: (name: string) => Promise<string[]>;
  installed(name: string): InstalledInfo | undefined;
  variables: VariableContext;
  interpolateComponentConfiguration: boolean;
  runAsFor(runWith: { posixUser?: string } | undefined): PosixUser;
  warn(message: string): void;
}

export class DeploymentError extends Error {}

export const NUCLEUS = 'aws.greengrass.Nucleus';

export async function resolveDeployment(components: Record<string, DeploymentComponentSpec>, ctx: ResolveContext): Promise<Map<string, ServiceDefinition>> {
  const chosen = new Map<string, string>();
  const recipes = new Map<string, { text: string; recipe: Recipe }>();
  const requirements = new Map<string, { from: string; range: string }[]>();
  for (const [name, spec] of Object.entries(components)) chosen.set(name, spec.componentVersion);

  const load = async (name: string, version: string): Promise<void> => {
    const installed = ctx.installed(name);
    let text: string;
    try {
      text = installed?.version === version ? installed.recipeText : await ctx.getRecipe(name, version);
    } catch (err) {
      throw new DeploymentError(`cannot get the recipe of ${name}@${version}: ${(err as Error).message}`);
    }
    let recipe: Recipe;
    try {
      recipe = parseRecipe(text, ctx.platform);
    } catch (err) {
      throw new DeploymentError((err as Error).message);
    }
    if (recipe.name !== name || recipe.version !== version) throw new DeploymentError(`recipe for ${name}@${version} names ${recipe.name}@${recipe.version}`);
    recipes.set(name, { text, recipe });
  };

  const queue = [...chosen.keys()];
  while (queue.length > 0) {
    const name = queue.shift() as string;
    if (recipes.has(name)) continue;
    await load(name, chosen.get(name) as string);
    const recipe = (recipes.get(name) as { recipe: Recipe }).recipe;
    for (const [dep, spec] of Object.entries(recipe.dependencies)) {
      if (dep === NUCLEUS) {
        // The nucleus component is the running nucleus: its version must satisfy the requirement, nothing starts.
        if (!satisfies(ctx.nucleusVersion, spec.versionRequirement)) {
          throw new DeploymentError(`${NUCLEUS}@${ctx.nucleusVersion} does not satisfy ${name}: ${spec.versionRequirement}`);
        }
        continue;
      }
      const list = requirements.get(dep) ?? [];
      list.push({ from: name, range: spec.versionRequirement });
      requirements.set(dep, list);
      const ok = (v: string): boolean => list.every((r) => satisfies(v, r.range));
      const current = chosen.get(dep);
      if (current !== undefined) {
        if (!ok(current)) throw new DeploymentError(`${dep}@${current} does not satisfy ${list.map((r) => `${r.from}: ${r.range}`).join(', ')}`);
        continue;
      }
      const installed = ctx.installed(dep)?.version;
      let pick = installed !== undefined && ok(installed) ? installed : undefined;
      if (pick === undefined && ctx.listVersions) {
        const offered = (await ctx.listVersions(dep).catch(() => [] as string[])).filter(ok).sort(compareVersions);
        pick = offered[offered.length - 1];
      }
      if (pick === undefined) throw new DeploymentError(`no available version of ${dep} satisfies ${list.map((r) => `${r.from}: ${r.range}`).join(', ')}`);
      chosen.set(dep, pick);
      queue.push(dep);
    }
  }

  // configurations (before interpolation), then lifecycle interpolation that may read dependencies' configurations
  const configs = new Map<string, Record<string, unknown>>();
  for (const [name, { recipe }] of recipes) {
    const installed = ctx.installed(name);
    configs.set(name, resolveConfiguration(installed?.configuration, recipe.defaultConfiguration, components[name]?.configurationUpdate));
  }
  const defs = new Map<string, ServiceDefinition>();
  for (const [name, { text, recipe }] of recipes) {
    const target: InterpolationTarget = {
      name,
      version: recipe.version,
      configuration: configs.get(name) ?? {},
      dependencies: Object.fromEntries(Object.keys(recipe.dependencies).map((d) => [d, { version: chosen.get(d) as string, configuration: configs.get(d) ?? {} }])),
    };
    const warn = (m: string): void => ctx.warn(m);
    const lifecycle = interpolateTree(recipe.lifecycle, target, ctx.variables, { crossConfiguration: true, warn });
    const configuration = ctx.interpolateComponentConfiguration ? interpolateTree(target.configuration, target, ctx.variables, { crossConfiguration: false, warn }) : target.configuration;
    const requested = components[name]?.runWith;
    const runWith = requested ?? ctx.installed(name)?.runWith;
    defs.set(name, {
      name,
      version: recipe.version,
      recipeText: text,
      recipe,
      configuration,
      lifecycle,
      ...(runWith ? { runWith } : {}),
      runAs: ctx.runAsFor(runWith),
      dependencies: Object.fromEntries(Object.entries(recipe.dependencies).filter(([d]) => d !== NUCLEUS).map(([d, s]) => [d, s.type])),
    });
  }
  return defs;
}

/** Dependencies before dependents. */
export function topologicalOrder(defs: Map<string, ServiceDefinition>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string, stack: Set<string>): void => {
    if (seen.has(name) || stack.has(name)) return;
    stack.add(name);
    for (const dep of Object.keys(defs.get(name)?.dependencies ?? {})) if (defs.has(dep)) visit(dep, stack);
    seen.add(name);
    out.push(name);
  };
  for (const name of defs.keys()) visit(name, new Set());
  return out;
}

/** What a deployment does to a component that is already there (GenericExternalService's config listener). */
export function changeKind(before: ServiceDefinition, after: ServiceDefinition): 'reinstall' | 'restart' | 'configuration' | 'none' {
  const withoutShutdown = (l: Record<string, unknown>): string => JSON.stringify({ ...l, shutdown: undefined });
  if (before.version !== after.version || JSON.stringify(before.lifecycle.install) !== JSON.stringify(after.lifecycle.install)) return 'reinstall';
  if (JSON.stringify(before.runWith ?? {}) !== JSON.stringify(after.runWith ?? {}) || before.runAs.uid !== after.runAs.uid || before.runAs.gid !== after.runAs.gid) return 'reinstall';
  if (withoutShutdown(before.lifecycle) !== withoutShutdown(after.lifecycle)) return 'restart';
  if (JSON.stringify(before.configuration) !== JSON.stringify(after.configuration)) return 'configuration';
  return 'none';
}
