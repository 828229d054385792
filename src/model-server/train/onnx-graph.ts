/**
 * Writes an ONNX ModelProto (onnx.proto3, IR version 8) for small graphs of standard operators:
 * float32 tensors only, float initializers, int / ints / float attributes, fixed or named
 * (dynamic) dimensions and metadata_props. Enough for the feature extractors `feature-extractor
 * learn` writes and for test graphs; no protobuf library needed.
 */
type Bytes = Uint8Array;

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** Negative ints (e.g. axes) as 64-bit two's complement varints, as protobuf encodes int64. */
function varint64(n: number): number[] {
  if (n >= 0) return varint(n);
  const out: number[] = [];
  let v = BigInt.asUintN(64, BigInt(n));
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

function cat(parts: readonly (Bytes | number[])[]): Bytes {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const tag = (field: number, wire: number): number[] => varint(field * 8 + wire);
const vint = (field: number, n: number): Bytes => cat([tag(field, 0), varint64(n)]);
const bytes = (field: number, b: Bytes): Bytes => cat([tag(field, 2), varint(b.length), b]);
const str = (field: number, s: string): Bytes => bytes(field, new TextEncoder().encode(s));
const f32 = (field: number, v: number): Bytes => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, v, true);
  return cat([tag(field, 5), b]);
};

export type Attr = { name: string; int: number } | { name: string; ints: readonly number[] } | { name: string; float: number };

export interface NodeSpec {
  readonly op: string;
  /** An empty name skips an optional input. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs?: readonly Attr[];
}

export interface ValueSpec {
  readonly name: string;
  /** Numbers are fixed sizes, strings dynamic dimensions. */
  readonly dims: readonly (number | string)[];
}

export interface GraphSpec {
  readonly nodes: readonly NodeSpec[];
  readonly inputs: readonly ValueSpec[];
  readonly outputs: readonly ValueSpec[];
  readonly initializers?: readonly { name: string; dims: readonly number[]; values: ArrayLike<number> }[];
  readonly metadata?: Readonly<Record<string, string>>;
  /** Default opset 13. */
  readonly opset?: number;
  readonly producer?: string;
}

// AttributeProto.type: FLOAT 1, INT 2, INTS 7.
function attribute(a: Attr): Bytes {
  if ('int' in a) return cat([str(1, a.name), vint(3, a.int), vint(20, 2)]);
  if ('float' in a) return cat([str(1, a.name), f32(2, a.float), vint(20, 1)]);
  return cat([str(1, a.name), ...a.ints.map((i) => vint(8, i)), vint(20, 7)]);
}

// ValueInfoProto { name 1, type 2 { tensor_type 1 { elem_type 1 (FLOAT = 1), shape 2 { dim 1 { dim_value 1 | dim_param 2 } } } } }
function valueInfo(v: ValueSpec): Bytes {
  const dims = v.dims.map((d) => bytes(1, typeof d === 'number' ? vint(1, d) : str(2, d)));
  const tensorType = bytes(1, cat([vint(1, 1), bytes(2, cat(dims))]));
  return cat([str(1, v.name), bytes(2, tensorType)]);
}

/** The serialised ModelProto. */
export function encodeModel(spec: GraphSpec): Uint8Array {
  // NodeProto { input 1, output 2, name 3, op_type 4, attribute 5 }
  const nodes = spec.nodes.map((n, i) =>
    bytes(1, cat([...n.inputs.map((s) => str(1, s)), ...n.outputs.map((s) => str(2, s)), str(3, `n${i}`), str(4, n.op), ...(n.attrs ?? []).map((a) => bytes(5, attribute(a)))])),
  );
  // TensorProto { dims 1, data_type 2 (FLOAT = 1), name 8, raw_data 9 (little-endian) }
  const inits = (spec.initializers ?? []).map((t) => {
    const raw = new Uint8Array(Float32Array.from(t.values).buffer);
    return bytes(5, cat([...t.dims.map((d) => vint(1, d)), vint(2, 1), str(8, t.name), bytes(9, raw)]));
  });
  // GraphProto { node 1, name 2, initializer 5, input 11, output 12 }
  const graph = cat([...nodes, str(2, 'g'), ...inits, ...spec.inputs.map((v) => bytes(11, valueInfo(v))), ...spec.outputs.map((v) => bytes(12, valueInfo(v)))]);
  const meta = Object.entries(spec.metadata ?? {}).map(([k, v]) => bytes(14, cat([str(1, k), str(2, v)])));
  // ModelProto { ir_version 1, producer_name 2, graph 7, opset_import 8 { domain 1, version 2 }, metadata_props 14 }
  return cat([vint(1, 8), str(2, spec.producer ?? 'lookout-edge'), bytes(7, graph), bytes(8, cat([str(1, ''), vint(2, spec.opset ?? 13)])), ...meta]);
}
