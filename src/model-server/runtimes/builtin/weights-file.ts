import { readFile, writeFile } from 'node:fs/promises';

/** Named Float32 tensors stored back to back in one little-endian binary file; the table lives in the manifest. */
export interface TensorEntry {
  readonly name: string;
  readonly length: number;
}

export async function writeTensors(path: string, tensors: ReadonlyMap<string, Float32Array>): Promise<TensorEntry[]> {
  const table: TensorEntry[] = [];
  let total = 0;
  for (const [name, t] of tensors) {
    table.push({ name, length: t.length });
    total += t.length;
  }
  const all = new Float32Array(total);
  let o = 0;
  for (const t of tensors.values()) {
    all.set(t, o);
    o += t.length;
  }
  await writeFile(path, new Uint8Array(all.buffer));
  return table;
}

export async function readTensors(path: string, table: readonly TensorEntry[]): Promise<Map<string, Float32Array>> {
  const bytes = await readFile(path);
  const expected = table.reduce((a, t) => a + t.length, 0) * 4;
  if (bytes.length !== expected) throw new Error(`${path} holds ${bytes.length} bytes, the manifest describes ${expected}`);
  const all = new Float32Array(expected / 4);
  new Uint8Array(all.buffer).set(bytes);
  const out = new Map<string, Float32Array>();
  let o = 0;
  for (const t of table) {
    out.set(t.name, all.subarray(o, o + t.length));
    o += t.length;
  }
  return out;
}
