/**
 * A tiny hand-written ONNX ModelProto encoder for tests: enough protobuf to describe small graphs
 * of standard operators, with float initializers, dynamic dimensions and metadata_props.
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

function cat(parts: (Bytes | number[])[]): Bytes {
  const len = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const tag = (field: number, wire: number): number[] => varint(field * 8 + wire);
const vint = (field: number, n: number): Bytes => cat([tag(field, 0), varint(n)]);
const bytes = (field: number, b: Bytes): Bytes => cat([tag(field, 2), varint(b.length), b]);
const str = (field: number, s: string): Bytes => bytes(field, new TextEncoder().encode(s));
const f32 = (field: number, v: number): Bytes => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, v, true);
  return cat([tag(field, 5), b]);
};

export type Attr = { name: string; int: number } | { name: string; ints: number[] } | { name: string; float: number };

export interface NodeSpec {
  readonly op: string;
  readonly inputs: string[];
  readonly outputs: string[];
  readonly attrs?: Attr[];
}

export interface ValueSpec {
  readonly name: string;
  /** Numbers are fixed sizes, strings dynamic dimensions. */
  readonly dims: (number | string)[];
}

export interface GraphSpec {
  readonly nodes: NodeSpec[];
  readonly inputs: ValueSpec[];
  readonly outputs: ValueSpec[];
  readonly initializers?: { name: string; dims: number[]; values: number[] }[];
  readonly metadata?: Record<string, string>;
  readonly opset?: number;
}

function attribute(a: Attr): Bytes {
  if ('int' in a) return cat([str(1, a.name), vint(3, a.int), vint(20, 2)]);
  if ('float' in a) return cat([str(1, a.name), f32(2, a.float), vint(20, 1)]);
  return cat([str(1, a.name), ...a.ints.map((i) => vint(8, i)), vint(20, 7)]);
}

function valueInfo(v: ValueSpec): Bytes {
  const dims = v.dims.map((d) => bytes(1, typeof d === 'number' ? vint(1, d) : str(2, d)));
  const shape = bytes(2, cat(dims));
  const tensorType = bytes(1, cat([vint(1, 1), shape]));
  return cat([str(1, v.name), bytes(2, tensorType)]);
}

export function encodeModel(spec: GraphSpec): Uint8Array {
  const nodes = spec.nodes.map((n, i) =>
    bytes(1, cat([...n.inputs.map((s) => str(1, s)), ...n.outputs.map((s) => str(2, s)), str(3, `n${i}`), str(4, n.op), ...(n.attrs ?? []).map((a) => bytes(5, attribute(a)))])),
  );
  const inits = (spec.initializers ?? []).map((t) => {
    const raw = new Uint8Array(new Float32Array(t.values).buffer);
    return bytes(5, cat([...t.dims.map((d) => vint(1, d)), vint(2, 1), str(8, t.name), bytes(9, raw)]));
  });
  const graph = cat([...nodes, str(2, 'g'), ...inits, ...spec.inputs.map((v) => bytes(11, valueInfo(v))), ...spec.outputs.map((v) => bytes(12, valueInfo(v)))]);
  const meta = Object.entries(spec.metadata ?? {}).map(([k, v]) => bytes(14, cat([str(1, k), str(2, v)])));
  return cat([vint(1, 8), str(2, 'lookout-edge-tests'), bytes(7, graph), bytes(8, cat([str(1, ''), vint(2, spec.opset ?? 13)])), ...meta]);
}

/**
 * An anomalib-like detector: anomaly_map = mean over channels of |image − ref| (1×1×H×W) and
 * pred_score = its maximum (a scalar).
 */
export function deviationModel(ref: [number, number, number], metadata?: Record<string, string>): Uint8Array {
  return encodeModel({
    inputs: [{ name: 'image', dims: [1, 3, 'H', 'W'] }],
    outputs: [
      { name: 'anomaly_map', dims: [1, 1, 'H', 'W'] },
      { name: 'pred_score', dims: [] },
    ],
    initializers: [{ name: 'ref', dims: [1, 3, 1, 1], values: ref }],
    nodes: [
      { op: 'Sub', inputs: ['image', 'ref'], outputs: ['diff'] },
      { op: 'Abs', inputs: ['diff'], outputs: ['absdiff'] },
      { op: 'ReduceMean', inputs: ['absdiff'], outputs: ['anomaly_map'], attrs: [{ name: 'axes', ints: [1] }, { name: 'keepdims', int: 1 }] },
      { op: 'ReduceMax', inputs: ['anomaly_map'], outputs: ['pred_score'], attrs: [{ name: 'keepdims', int: 0 }] },
    ],
    ...(metadata ? { metadata } : {}),
  });
}

/** A feature extractor: 8×8 average and max pooling of the image, concatenated (1×6×H/8×W/8). */
export function poolingExtractor(): Uint8Array {
  const pool = [{ name: 'kernel_shape', ints: [8, 8] }, { name: 'strides', ints: [8, 8] }];
  return encodeModel({
    inputs: [{ name: 'input', dims: [1, 3, 'H', 'W'] }],
    outputs: [{ name: 'features', dims: [1, 6, 'h', 'w'] }],
    nodes: [
      { op: 'AveragePool', inputs: ['input'], outputs: ['avg'], attrs: pool },
      { op: 'MaxPool', inputs: ['input'], outputs: ['max'], attrs: pool },
      { op: 'Concat', inputs: ['avg', 'max'], outputs: ['features'], attrs: [{ name: 'axis', int: 1 }] },
    ],
  });
}
