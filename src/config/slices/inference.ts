import { z } from 'zod';
import { componentName, durationMs, localUser } from './common.js';
import { DEFAULT_SOCKET_DESCRIPTION } from './edge-agent-socket.js';

/** How the inspector reaches the Edge Agent (AWS's or ours). */
export const inferenceSchema = z
  .strictObject({
    endpoint: z
      .string()
      .regex(/^(unix:\/\/?\/.+|unix:.+|dns:.+|[A-Za-z0-9.-]+:\d+)$/, 'a gRPC target: unix:///path.sock or host:port')
      .optional()
      .describe(`unset: unix:// + ${DEFAULT_SOCKET_DESCRIPTION}`),
    /**
     * Besides our own user and root, the user that may own the Edge Agent socket (a model server running as
     * another user). Any other owner, or a path that is not a socket, and the model server counts as unavailable.
     */
    socketOwner: localUser.optional().describe('user (name or uid) besides ours and root that may own the Edge Agent socket'),
    modelComponent: componentName.default('lookout-edge-demo-model'),
    /** inline bytes, POSIX shared memory, or shared memory when available. */
    transport: z.enum(['auto', 'shm', 'inline']).default('auto'),
    callTimeoutMs: durationMs.default(5_000),
    modelStartTimeoutMs: durationMs.default(120_000),
    pollIntervalMs: durationMs.default(500),
    retry: z
      .strictObject({
        initialBackoffMs: durationMs.default(100),
        maxBackoffMs: durationMs.default(10_000),
        maxAttempts: z.number().int().min(1).max(100).default(3),
      })
      .prefault({}),
  })
  .prefault({});
export type InferenceConfig = z.infer<typeof inferenceSchema>;
