/** Test graphs of standard operators, written with the model server's own ONNX encoder. */
import { encodeModel } from '../../../src/model-server/train/onnx-graph.js';

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
