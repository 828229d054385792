import type { GraphSpec, NodeSpec } from './onnx-graph.js';

/**
 * The layout of a learned PCANet-style feature extractor (`learn-extractor.ts`), and the ONNX graphs
 * that compute it with standard operators (Conv, Abs, AveragePool, Concat; opset 13):
 *
 * - **scales**: for l = 0 … levels−1 a Conv with `filters` kernels of 3×size×size reads the
 *   normalised image averaged over 2^l × 2^l pixels (a pyramid level, box-blurred and read with
 *   dilation once the level is as coarse as the grid) at every grid cell: the principal components of
 *   normal patches of that scale (the built-in eigen-patches, as a graph). Every scale lands on one grid.
 * - **texture** (PCANet's second stage): the finest scale's filters at stride 2, their absolute
 *   responses averaged over each grid cell, and `textureFilters` principal components of each
 *   cell's 3×3 neighbourhood of those energies.
 *
 * Output `features`: 1 × (levels·filters + textureFilters) × ⌈H/stride⌉ × ⌈W/stride⌉, cell (i, j)
 * centred near pixel (j·stride + stride/2, i·stride + stride/2).
 */
export interface ExtractorLayout {
  readonly levels: number;
  /** Odd kernel side of the scale filters. */
  readonly size: number;
  /** Even grid stride in pixels. */
  readonly stride: number;
  readonly filters: number;
  /** 0: no texture stage. */
  readonly textureFilters: number;
}

/** Conv weights (out × in × k × k, ONNX order) and bias. */
export interface ConvFilters {
  readonly weights: Float32Array;
  readonly bias: Float32Array;
}

export interface ExtractorFilters {
  /** One per scale: filters × 3 × size × size. */
  readonly scales: readonly ConvFilters[];
  /** textureFilters × filters × 3 × 3, when the layout has a texture stage. */
  readonly texture?: ConvFilters;
}

const INPUT = { name: 'input', dims: [1, 3, 'H', 'W'] };

/**
 * Where scale l reads: the image averaged over q×q blocks (q = min(2^l, stride), a pyramid level,
 * partial blocks at the edges averaged over their pixels), box-blurred over r×r of those (r = 2^l / q)
 * and read with dilation r every stride / q of its pixels.
 */
export function scaleGeometry(layout: ExtractorLayout, level: number): { q: number; r: number; step: number } {
  const q = Math.min(1 << level, layout.stride);
  return { q, r: (1 << level) / q, step: layout.stride / q };
}

export const scaleInput = (level: number): string => (level === 0 ? 'input' : `level${level}`);
const pyramidName = (q: number): string => (q === 1 ? 'input' : `pyramid${q}`);

const pool = (from: string, to: string, kernel: number[], strides: number[], pads: number[]): NodeSpec => ({
  op: 'AveragePool',
  inputs: [from],
  outputs: [to],
  attrs: [{ name: 'kernel_shape', ints: kernel }, { name: 'strides', ints: strides }, { name: 'pads', ints: pads }, { name: 'ceil_mode', int: 1 }, { name: 'count_include_pad', int: 0 }],
});

/** Nodes computing `scaleInput(level)`, given the pyramid levels already computed (`have`, updated). */
function scaleInputNodes(layout: ExtractorLayout, level: number, have: Set<number>): NodeSpec[] {
  if (level === 0) return [];
  const { q, r } = scaleGeometry(layout, level);
  const nodes: NodeSpec[] = [];
  for (let p = 2; p <= q; p *= 2) {
    if (have.has(p)) continue;
    nodes.push(pool(pyramidName(p / 2), pyramidName(p), [2, 2], [2, 2], [0, 0, 0, 0]));
    have.add(p);
  }
  if (r === 1) return [...nodes, { op: 'Identity', inputs: [pyramidName(q)], outputs: [scaleInput(level)] }];
  const lo = (r - 1) >> 1;
  const hi = r - 1 - lo;
  nodes.push(pool(pyramidName(q), `rows${level}`, [1, r], [1, 1], [0, lo, 0, hi]));
  nodes.push(pool(`rows${level}`, scaleInput(level), [r, 1], [1, 1], [lo, 0, hi, 0]));
  return nodes;
}

/** Pads of scale l's conv: output ⌈side/stride⌉ cells, cell i centred near i·stride + stride/2. */
function scalePads(layout: ExtractorLayout, level: number): number[] {
  const { r, step } = scaleGeometry(layout, level);
  const p = ((layout.size - 1) / 2) * r;
  const begin = Math.max(0, p - Math.floor(step / 2));
  return [begin, begin, 2 * p - begin, 2 * p - begin];
}

/** The finest scale's absolute responses at stride 2, averaged over each grid cell. */
function energyNodes(layout: ExtractorLayout): NodeSpec[] {
  const p = (layout.size - 1) / 2;
  const k = layout.stride / 2;
  return [
    { op: 'Conv', inputs: ['input', 'w0', 'b0'], outputs: ['fine'], attrs: [{ name: 'kernel_shape', ints: [layout.size, layout.size] }, { name: 'strides', ints: [2, 2] }, { name: 'pads', ints: [p, p, p, p] }] },
    { op: 'Abs', inputs: ['fine'], outputs: ['magnitude'] },
    { op: 'AveragePool', inputs: ['magnitude'], outputs: ['energy'], attrs: [{ name: 'kernel_shape', ints: [k, k] }, { name: 'strides', ints: [k, k] }, { name: 'ceil_mode', int: 1 }, { name: 'count_include_pad', int: 0 }] },
  ];
}

const initializers = (name: string, f: ConvFilters, dims: number[]): GraphSpec['initializers'] => [
  { name: `w${name}`, dims, values: f.weights },
  { name: `b${name}`, dims: [dims[0]!], values: f.bias },
];

/** Learning step 1: what scales 1 … levels−1 read (`level<l>`, 1×3×h×w each). */
export function scaleInputGraph(layout: ExtractorLayout): GraphSpec {
  const levels = Array.from({ length: layout.levels - 1 }, (_, i) => i + 1);
  const have = new Set<number>();
  return {
    inputs: [INPUT],
    outputs: levels.map((l) => ({ name: scaleInput(l), dims: [1, 3, `h${l}`, `w${l}`] })),
    nodes: levels.flatMap((l) => scaleInputNodes(layout, l, have)),
  };
}

/** Learning step 2: the cell energies of the finest scale's filters (`energy`, 1×filters×h×w). */
export function energyGraph(layout: ExtractorLayout, finest: ConvFilters): GraphSpec {
  return {
    inputs: [INPUT],
    outputs: [{ name: 'energy', dims: [1, layout.filters, 'h', 'w'] }],
    initializers: initializers('0', finest, [layout.filters, 3, layout.size, layout.size]),
    nodes: energyNodes(layout),
  };
}

/** The whole extractor. */
export function extractorGraph(layout: ExtractorLayout, filters: ExtractorFilters, metadata: Record<string, string> = {}): GraphSpec {
  const { levels, size } = layout;
  const nodes: NodeSpec[] = [];
  const inits: NonNullable<GraphSpec['initializers']>[number][] = [];
  const parts: string[] = [];
  const have = new Set<number>();
  for (let l = 0; l < levels; l++) {
    nodes.push(...scaleInputNodes(layout, l, have));
    const { r, step } = scaleGeometry(layout, l);
    inits.push(...initializers(String(l), filters.scales[l]!, [layout.filters, 3, size, size])!);
    nodes.push({
      op: 'Conv',
      inputs: [scaleInput(l), `w${l}`, `b${l}`],
      outputs: [`scale${l}`],
      attrs: [{ name: 'kernel_shape', ints: [size, size] }, { name: 'strides', ints: [step, step] }, { name: 'dilations', ints: [r, r] }, { name: 'pads', ints: scalePads(layout, l) }],
    });
    parts.push(`scale${l}`);
  }
  if (layout.textureFilters > 0 && filters.texture) {
    nodes.push(...energyNodes(layout));
    inits.push(...initializers('t', filters.texture, [layout.textureFilters, layout.filters, 3, 3])!);
    nodes.push({ op: 'Conv', inputs: ['energy', 'wt', 'bt'], outputs: ['texture'], attrs: [{ name: 'kernel_shape', ints: [3, 3] }, { name: 'pads', ints: [1, 1, 1, 1] }] });
    parts.push('texture');
  }
  const channels = levels * layout.filters + (filters.texture ? layout.textureFilters : 0);
  nodes.push({ op: 'Concat', inputs: parts, outputs: ['features'], attrs: [{ name: 'axis', int: 1 }] });
  return { inputs: [INPUT], outputs: [{ name: 'features', dims: [1, channels, 'h', 'w'] }], initializers: inits, nodes, metadata };
}
