import { isObj } from './recipe.js';
import { pointerGet } from './configuration.js';

/**
 * Recipe variables.
 *
 * Facts (nucleus KernelConfigResolver.replace; developer guide component-recipe-reference "Recipe variables"):
 * - Same-component form `{namespace:key}` (regex `\{([.\w]+):([^:}]+)}`): `{configuration:/json/pointer}`,
 *   `{artifacts:path}`, `{artifacts:decompressedPath}`, `{work:path}`, `{kernel:rootPath}`, `{iot:thingName}`.
 * - Cross-component form `{<component>:namespace:key}` (regex `\{([.\w]+):([.\w]+):([^:}]+)}`) is interpolated
 *   "only if target component is a direct dependency"; otherwise it is logged ("not a direct dependency") and the
 *   text stays literal. An unknown namespace or a missing configuration value also stays literal.
 * - A configuration value that is an object or list is inserted as its JSON text; a scalar as its text.
 * - Lifecycle (every string under Lifecycle, including Setenv) is always interpolated. Component configuration is
 *   interpolated only on nucleus ≥ 2.6.0 with `interpolateComponentConfiguration: true` (nucleus configuration,
 *   default false), and then without the `{<dep>:configuration:…}` form (v2.6.0 release notes: "recipe variables
 *   in component configurations, other than the component_dependency_name:configuration:json_pointer").
 */

export interface VariableContext {
  rootPath: string;
  thingName: string;
  artifactsPath(name: string, version: string): string;
  decompressedPath(name: string, version: string): string;
  workPath(name: string): string;
}

export interface InterpolationTarget {
  name: string;
  version: string;
  configuration: Record<string, unknown>;
  /** Direct dependencies with their resolved version and configuration. */
  dependencies: Record<string, { version: string; configuration: Record<string, unknown> }>;
}

function configText(config: Record<string, unknown>, pointer: string): string | undefined {
  const value = pointerGet(config, pointer);
  if (value === undefined) return undefined;
  if (value === null) return 'null';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function systemValue(ctx: VariableContext, name: string, version: string, namespace: string, key: string): string | undefined {
  if (namespace === 'artifacts' && key === 'path') return ctx.artifactsPath(name, version);
  if (namespace === 'artifacts' && key === 'decompressedPath') return ctx.decompressedPath(name, version);
  if (namespace === 'work' && key === 'path') return ctx.workPath(name);
  if (namespace === 'kernel' && key === 'rootPath') return ctx.rootPath;
  if (namespace === 'iot' && key === 'thingName') return ctx.thingName;
  return undefined;
}

export function interpolateString(text: string, target: InterpolationTarget, ctx: VariableContext, opts: { crossConfiguration: boolean; warn: (m: string) => void }): string {
  let out = text.replace(/\{([.\w]+):([^:}]+)\}/g, (whole, namespace: string, key: string) => {
    if (namespace === 'configuration') return configText(target.configuration, key) ?? whole;
    const v = systemValue(ctx, target.name, target.version, namespace, key);
    if (v === undefined) opts.warn(`unrecognized recipe variable ${whole}`);
    return v ?? whole;
  });
  out = out.replace(/\{([.\w]+):([.\w]+):([^:}]+)\}/g, (whole, component: string, namespace: string, key: string) => {
    const dep = target.dependencies[component];
    if (!dep) {
      opts.warn(`${target.name}: ${whole} left as is: ${component} is not a direct dependency`);
      return whole;
    }
    if (namespace === 'configuration') return opts.crossConfiguration ? (configText(dep.configuration, key) ?? whole) : whole;
    return systemValue(ctx, component, dep.version, namespace, key) ?? whole;
  });
  return out;
}

/** Interpolates every string in a JSON-like tree (objects and lists). */
export function interpolateTree<T>(value: T, target: InterpolationTarget, ctx: VariableContext, opts: { crossConfiguration: boolean; warn: (m: string) => void }): T {
  if (typeof value === 'string') return interpolateString(value, target, ctx, opts) as T;
  if (Array.isArray(value)) return value.map((v) => interpolateTree(v, target, ctx, opts)) as T;
  if (isObj(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateTree(v, target, ctx, opts);
    return out as T;
  }
  return value;
}
