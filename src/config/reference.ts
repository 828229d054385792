import { configJsonSchema } from './schema.js';

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  required?: string[];
}

/**
 * The configuration reference as Markdown table rows, generated from the schema (the README embeds
 * it between markers; a test keeps the two equal: `npm run docs` rewrites it).
 */
export function configReferenceMarkdown(): string {
  const rows: string[] = ['| key | type | default | allowed |', '| --- | --- | --- | --- |'];
  walk(configJsonSchema() as JsonSchema, '', rows);
  return rows.join('\n');
}

function walk(schema: JsonSchema, path: string, rows: string[]): void {
  if (schema.properties) {
    for (const [key, child] of Object.entries(schema.properties)) walk(child, path ? `${path}.${key}` : key, rows);
    return;
  }
  if (schema.type === 'array' && schema.items && (schema.items.properties || schema.items.oneOf)) {
    rows.push(row(path, schema));
    walk(schema.items, `${path}[]`, rows);
    return;
  }
  const variants = schema.oneOf ?? schema.anyOf;
  if (variants && variants.every((v) => v.properties?.type?.const !== undefined)) {
    for (const variant of variants) {
      const tag = String(variant.properties!.type!.const);
      for (const [key, child] of Object.entries(variant.properties!)) {
        if (key === 'type') continue;
        walk(child, `${path}.${key} (type ${tag})`, rows);
      }
    }
    rows.push(row(`${path}.type`, { enum: variants.map((v) => v.properties!.type!.const) }));
    return;
  }
  rows.push(row(path, schema));
}

function row(path: string, s: JsonSchema): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  return `| \`${cell(path)}\` | ${cell(typeOf(s))} | ${s.default === undefined ? '' : `\`${cell(JSON.stringify(s.default))}\``} | ${cell(allowed(s))} |`;
}

function typeOf(s: JsonSchema): string {
  if (s.enum) return 'enum';
  const variants = s.oneOf ?? s.anyOf;
  if (variants) return [...new Set(variants.map(typeOf))].join(' or ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.type === 'array') return `${s.items ? typeOf(s.items) : 'any'}[]`;
  if (s.type === 'object') return 'map';
  return Array.isArray(s.type) ? s.type.join(' or ') : (s.type ?? 'any');
}

function allowed(s: JsonSchema): string {
  const parts: string[] = [];
  if (s.enum) parts.push(s.enum.map((v) => JSON.stringify(v)).join(', '));
  const variants = s.oneOf ?? s.anyOf;
  if (variants && variants.every((v) => v.const !== undefined)) parts.push(variants.map((v) => JSON.stringify(v.const)).join(', '));
  if (s.minimum !== undefined) parts.push(`≥ ${s.minimum}`);
  if (s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER) parts.push(`≤ ${s.maximum}`);
  if (s.minLength !== undefined && s.minLength > 1) parts.push(`length ≥ ${s.minLength}`);
  if (s.maxItems !== undefined) parts.push(`at most ${s.maxItems}`);
  if (s.format) parts.push(s.format);
  if (s.pattern) parts.push(`\`${s.pattern}\``);
  if (s.description) parts.push(s.description);
  return parts.join('; ');
}
