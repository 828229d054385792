import { z } from 'zod';
import { MAX_SIDE, rgbByteLength } from '../../core/image.js';
import { byteSize, componentName, durationMs, localUser, positiveInt } from './common.js';
import { DEFAULT_SOCKET_DESCRIPTION } from './edge-agent-socket.js';

/** The largest input bitmap a DetectAnomalies call can carry (4096x4096 RGB): queueBytes holds at least one. */
const LARGEST_BITMAP_BYTES = rgbByteLength(MAX_SIDE, MAX_SIDE);

/**
 * ONNX Runtime execution providers. This build runs on the CPU only: `cuda` and `tensorrt` are refused when the
 * configuration (or a model manifest) is validated, never silently replaced by the CPU.
 */
export const GPU_PROVIDERS_UNAVAILABLE =
  'is not available in this build: onnxruntime-node from the npm registry carries no CUDA or TensorRT provider for arm64 (NVIDIA Jetson), and none on x64 without a separate download at install time; inference runs on the CPU (recipes/README.md, "What runs on a Jetson\'s GPU today")';
export const executionProvidersSchema = z.array(z.enum(['cpu', 'cuda', 'tensorrt'])).superRefine((providers, ctx) => {
  providers.forEach((provider, i) => {
    if (provider !== 'cpu') ctx.addIssue({ code: 'custom', path: [i], message: `${provider} ${GPU_PROVIDERS_UNAVAILABLE}` });
  });
});

export const modelEntrySchema = z.strictObject({
  component: componentName,
  /**
   * Directory holding the model's manifest.json (written by `lookout-edge train` or by hand for ONNX).
   * Without it the model is located through `registryDir`/<component>.json, written by the model
   * component's Install step.
   */
  path: z.string().min(1).optional(),
  startOnBoot: z.boolean().default(true),
});

export const modelServerSchema = z
  .strictObject({
    /**
     * The Edge Agent socket. Unset: LOOKOUT_EDGE_SOCKET, else a private directory (edge-agent-socket.ts), which
     * the environment layer fills in. Its directory must be ours and writable by no one else, or a shared sticky
     * one such as /tmp (AWS's path /tmp/aws.iot.lookoutvision.EdgeAgent.sock, for Lookout for Vision clients).
     */
    socket: z.string().min(1).optional().describe(DEFAULT_SOCKET_DESCRIPTION),
    /** File mode of the socket, octal string; group access, never world-writable. */
    socketMode: z
      .string()
      .regex(/^0?[0-7]{3}$/, 'an octal mode such as 0660')
      .refine((m) => (parseInt(m, 8) & 0o002) === 0, 'must not be world-writable')
      .default('0660'),
    socketGroup: z.string().optional(),
    /**
     * Users (names or uids) besides the server's own whose shared-memory segments it reads images from and
     * writes masks into; a segment of anyone else is refused with INVALID_ARGUMENT before any byte moves.
     */
    shmOwners: z.array(localUser).max(32).default([]).describe('users (names or uids) besides our own whose shared-memory segments are used'),
    /** Every sub-directory with a manifest.json is served under its directory name. */
    modelsDir: z.string().min(1).optional(),
    /**
     * Where model components record their model directory: `<registryDir>/<component>.json` =
     * `{"component", "version", "path"}` (absolute path). Environment: LOOKOUT_EDGE_MODEL_REGISTRY.
     */
    registryDir: z.string().min(1).optional(),
    models: z.array(modelEntrySchema).default([]),
    queueSize: positiveInt.max(10_000).default(32),
    concurrency: positiveInt.max(64).default(1),
    /**
     * Bytes that DetectAnomalies calls may hold together: a call being received holds the largest request
     * (one 4096x4096 image and 1 MiB), one queued or running its input bitmap (width*height*3). A call whose
     * request does not fit yet waits, unread, in FIFO order (at most queueSize of them; more are answered
     * RESOURCE_EXHAUSTED).
     */
    queueBytes: byteSize.min(LARGEST_BITMAP_BYTES).default(256 * 1024 * 1024),
    /**
     * Time a DetectAnomalies request may take to arrive once the server began to read it; a slower one is
     * answered RESOURCE_EXHAUSTED and gives its bytes back.
     */
    readTimeoutMs: durationMs.min(100).default(10_000),
    /** DetectAnomalies (and other) calls one client connection may have open at once (HTTP/2 max concurrent streams). */
    connectionCalls: positiveInt.max(1_000).default(4),
    /**
     * An inference running longer fails with INFERENCE_TIMEOUT (gRPC DEADLINE_EXCEEDED) and marks its model
     * FAILED, freeing the slot a hung runtime would hold; StartModel loads it again.
     */
    inferTimeoutMs: durationMs.min(100).default(30_000),
    executionProviders: executionProvidersSchema.default(['cpu']),
  })
  .superRefine((value, ctx) => {
    const seen = new Set<string>();
    value.models.forEach((m, i) => {
      if (seen.has(m.component)) ctx.addIssue({ code: 'custom', path: ['models', i, 'component'], message: `model component ${m.component} is listed twice` });
      seen.add(m.component);
      if (m.path === undefined && value.registryDir === undefined) {
        ctx.addIssue({ code: 'custom', path: ['models', i, 'path'], message: `model ${m.component} has no path: set its path, or modelServer.registryDir (LOOKOUT_EDGE_MODEL_REGISTRY) to find it in the model registry` });
      }
    });
  })
  .prefault({});
export type ModelServerConfig = z.infer<typeof modelServerSchema>;
export type ModelEntryConfig = ModelServerConfig['models'][number];
