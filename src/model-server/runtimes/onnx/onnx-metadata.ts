import { readFile } from 'node:fs/promises';

/**
 * Reads `metadata_props` (ModelProto field 14, repeated {key: 1, value: 2}) from an ONNX file by
 * walking the top level of the protobuf; the graph and weights are skipped by length, not parsed.
 * onnxruntime's JavaScript API does not expose these properties.
 */
export async function readOnnxMetadata(path: string): Promise<Record<string, string>> {
  return parseMetadata(await readFile(path));
}

export function parseMetadata(buf: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const top = new Reader(buf, 0, buf.length);
  while (!top.done()) {
    const { field, wire } = top.tag();
    if (field === 14 && wire === 2) {
      const [start, end] = top.span();
      const entry = new Reader(buf, start, end);
      let key = '';
      let value = '';
      while (!entry.done()) {
        const t = entry.tag();
        if (t.wire === 2 && (t.field === 1 || t.field === 2)) {
          const [s, e] = entry.span();
          const text = new TextDecoder().decode(buf.subarray(s, e));
          if (t.field === 1) key = text;
          else value = text;
        } else entry.skip(t.wire);
      }
      if (key) out[key] = value;
    } else {
      top.skip(wire);
    }
  }
  return out;
}

class Reader {
  constructor(
    private readonly buf: Uint8Array,
    private pos: number,
    private readonly end: number,
  ) {}

  done(): boolean {
    return this.pos >= this.end;
  }

  varint(): number {
    let result = 0;
    let shift = 1;
    for (;;) {
      if (this.pos >= this.end) throw new Error('truncated protobuf');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * shift;
      if (b < 0x80) return result;
      shift *= 128;
    }
  }

  tag(): { field: number; wire: number } {
    const t = this.varint();
    return { field: Math.floor(t / 8), wire: t & 7 };
  }

  span(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    this.pos += len;
    if (this.pos > this.end) throw new Error('truncated protobuf');
    return [start, this.pos];
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.span();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
}
