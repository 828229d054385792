import { LookoutError } from '../../../core/errors.js';
import type { RgbImage } from '../../../core/image.js';
import type { OnnxSession, OpenOnnxSession } from '../onnx-session.js';
import { toNchw } from '../onnx/image-tensor.js';
import type { FeatureMap } from './feature-map.js';
import type { FeatureExtractor } from './scorer.js';

/** The normalisation a feature extractor's input gets: (x/255 − mean) / std per RGB channel. */
export const IMAGENET = { mean: [0.485, 0.456, 0.406] as [number, number, number], std: [0.229, 0.224, 0.225] as [number, number, number] };

/**
 * A user-supplied ONNX feature extractor in place of the patch-PCA descriptors: the working-size
 * image goes in as NCHW float32 (ImageNet-normalised), the first 4-D output (1×C×h×w) is the
 * feature map; each of its h×w cells becomes one patch descriptor of C values.
 */
export class OnnxFeatureExtractor implements FeatureExtractor {
  private constructor(
    private readonly deps: { readonly session: OnnxSession; readonly mean: readonly number[]; readonly std: readonly number[] },
  ) {}

  static async open(path: string, norm: { mean: readonly number[]; std: readonly number[] }, openSession: OpenOnnxSession): Promise<OnnxFeatureExtractor> {
    return new OnnxFeatureExtractor({ session: await openSession(path), ...norm });
  }

  async extract(img: RgbImage): Promise<FeatureMap> {
    const { session, mean, std } = this.deps;
    const input = session.inputNames[0]!;
    const out = await session.run({ [input]: { dims: [1, 3, img.height, img.width], data: toNchw(img, mean, std) } });
    const t = Object.values(out).find((o) => o.dims.length === 4);
    if (!t) throw new LookoutError('RUNTIME_INFER_FAILED', 'the feature extractor has no 4-D (N×C×H×W) output');
    const [, c, h, w] = t.dims as [number, number, number, number];
    const data = new Float32Array(c * h * w);
    for (let ch = 0; ch < c; ch++) for (let i = 0; i < h * w; i++) data[i * c + ch] = t.data[ch * h * w + i]!;
    return { width: w, height: h, dim: c, data };
  }

  async close(): Promise<void> {
    await this.deps.session.close();
  }
}
