import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { LookoutError } from '../core/errors.js';
import { type Config, configSchema } from './schema.js';

/**
 * Configuration layers, lowest precedence first:
 * defaults (in the schema) < Greengrass component configuration < local file < CLI flags.
 */
export interface ConfigLayer {
  /** Shown in errors: "greengrass", "file /etc/lookout.yaml", "flags". */
  readonly source: string;
  readonly values: unknown;
}

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Objects merge key by key; arrays and scalars replace. */
export function mergeLayers(layers: readonly ConfigLayer[]): Plain {
  const merge = (base: Plain, over: Plain): Plain => {
    const out: Plain = { ...base };
    for (const [key, value] of Object.entries(over)) {
      if (value === undefined) continue;
      const prev = out[key];
      out[key] = isPlain(prev) && isPlain(value) ? merge(prev, value) : value;
    }
    return out;
  };
  return layers.reduce<Plain>((acc, layer) => {
    if (layer.values === undefined || layer.values === null) return acc;
    if (!isPlain(layer.values)) {
      throw new LookoutError('CONFIG_INVALID', `${layer.source}: the configuration must be an object`);
    }
    return merge(acc, layer.values);
  }, {});
}

/** Every problem as `path: message`, all at once. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const path = issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => `${path === '(root)' ? k : `${path}.${k}`}: unknown key`).join('\n');
    }
    return `${path}: ${issue.message}`;
  }).flatMap((line) => line.split('\n'));
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Validates the merged layers and returns a frozen config, or throws CONFIG_INVALID listing every issue. */
export function loadConfig(layers: readonly ConfigLayer[]): Readonly<Config> {
  const merged = mergeLayers(layers);
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const problems = formatIssues(result.error.issues);
    throw new LookoutError('CONFIG_INVALID', `invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`, {
      details: { problems },
    });
  }
  return deepFreeze(result.data);
}

/** Reads a JSON or YAML configuration file (by extension; YAML is a superset of JSON otherwise). */
export async function readConfigFile(path: string): Promise<ConfigLayer> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new LookoutError('CONFIG_SOURCE_UNREADABLE', `cannot read configuration file ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const values: unknown = extname(path) === '.json' ? JSON.parse(text) : parseYaml(text);
    return { source: `file ${path}`, values: values ?? {} };
  } catch (err) {
    throw new LookoutError('CONFIG_SOURCE_UNREADABLE', `cannot parse configuration file ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * `--set a.b.c=value` flags. Values are parsed as JSON when they parse (numbers, booleans, arrays),
 * otherwise taken as strings. `cameras.0.id=x` addresses array items.
 */
export function parseSetFlags(assignments: readonly string[]): ConfigLayer {
  const root: Plain = {};
  for (const assignment of assignments) {
    const eq = assignment.indexOf('=');
    if (eq <= 0) throw new LookoutError('USAGE', `--set expects key.path=value, got "${assignment}"`);
    const keys = assignment.slice(0, eq).split('.');
    const raw = assignment.slice(eq + 1);
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
    let node: Plain = root;
    keys.forEach((key, i) => {
      if (key === '' || key === '__proto__' || key === 'constructor' || key === 'prototype') {
        throw new LookoutError('USAGE', `--set: bad key path "${assignment.slice(0, eq)}"`);
      }
      if (i === keys.length - 1) {
        node[key] = value;
        return;
      }
      const next = node[key];
      if (!isPlain(next)) node[key] = {};
      node = node[key] as Plain;
    });
  }
  return { source: 'flags', values: arraysFromIndexKeys(root) };
}

/** Turns `{cameras: {"0": {...}}}` (from `--set cameras.0.id=x`) into arrays. */
function arraysFromIndexKeys(value: unknown): unknown {
  if (!isPlain(value)) return value;
  const keys = Object.keys(value);
  const converted = Object.fromEntries(keys.map((k) => [k, arraysFromIndexKeys(value[k])]));
  if (keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    const arr: unknown[] = [];
    for (const k of keys) arr[Number(k)] = converted[k];
    return arr;
  }
  return converted;
}

/** Greengrass component configuration holds `accessControl` beside ours; it is the nucleus's business. */
export function greengrassLayer(componentConfiguration: unknown): ConfigLayer {
  if (!isPlain(componentConfiguration)) return { source: 'greengrass', values: {} };
  const { accessControl: _ignored, ...rest } = componentConfiguration;
  return { source: 'greengrass', values: rest };
}
