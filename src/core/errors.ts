/**
 * One error class for the whole project. Every failure that crosses a module boundary is a
 * LookoutError with a stable `code` from the catalogue below, a `retryable` flag that retry
 * policies read (never the message text), and the original `cause`.
 *
 * The catalogue is documented in README.md ("Error codes"); test/core/errors.catalogue.test.ts
 * keeps the two in sync.
 */

export interface ErrorSpec {
  readonly retryable: boolean;
  readonly description: string;
}

export const ERROR_CATALOGUE = {
  // configuration and start-up
  CONFIG_INVALID: { retryable: false, description: 'Configuration failed validation; every problem is listed as `path: message`.' },
  CONFIG_SOURCE_UNREADABLE: { retryable: false, description: 'A configuration file or the Greengrass configuration could not be read or parsed.' },
  USAGE: { retryable: false, description: 'Bad command-line usage.' },

  // Edge Agent protocol (client side)
  INFERENCE_UNAVAILABLE: { retryable: true, description: 'The model server cannot be reached (gRPC UNAVAILABLE or connection refused).' },
  INFERENCE_OVERLOADED: { retryable: true, description: 'The model server is out of memory or cannot keep up (gRPC RESOURCE_EXHAUSTED); back off.' },
  INFERENCE_TIMEOUT: { retryable: true, description: 'A call to the model server passed its deadline.' },
  INFERENCE_INVALID_ARGUMENT: { retryable: false, description: 'The model server rejected the request (gRPC INVALID_ARGUMENT): wrong size or byte length, or a shared-memory segment it will not use (another user\'s, a hard link, not a file).' },
  MODEL_NOT_FOUND: { retryable: false, description: 'No model with that component name on the model server (gRPC NOT_FOUND).' },
  MODEL_NOT_RUNNING: { retryable: true, description: 'The model is not RUNNING (gRPC FAILED_PRECONDITION), or did not reach RUNNING in time.' },
  MODEL_FAILED: { retryable: true, description: 'The model went to FAILED while starting.' },
  INFERENCE_FAILED: { retryable: false, description: 'The model server reported an internal or unknown error.' },
  INFERENCE_SOCKET_UNTRUSTED: {
    retryable: true,
    description: 'The Edge Agent socket is not a socket owned by our user, root or `inference.socketOwner` (an impostor may have bound it first); the model server counts as unavailable until it is.',
  },
  SHM_UNAVAILABLE: { retryable: false, description: 'POSIX shared memory cannot be used here; inline bytes are used instead.' },

  // model server and runtimes
  SOCKET_PATH_UNSAFE: {
    retryable: false,
    description: 'The model server\'s socket directory is not private (not a directory, another user\'s, or writable by group or others), or another user\'s socket holds the path: it does not start.',
  },
  RUNTIME_LOAD_FAILED: { retryable: false, description: 'A model runtime could not load its model.' },
  RUNTIME_INFER_FAILED: { retryable: false, description: 'A model runtime failed on one image.' },
  REQUEST_READ_TIMEOUT: {
    retryable: true,
    description: 'A DetectAnomalies request did not arrive within `modelServer.readTimeoutMs` once the model server began to read it (gRPC RESOURCE_EXHAUSTED); its bytes were given back.',
  },
  MODEL_MANIFEST_INVALID: { retryable: false, description: 'A model directory has a missing or invalid manifest.' },

  // training and datasets
  DATASET_INVALID: { retryable: false, description: 'A dataset manifest line, image or mask is missing or malformed (the line is named).' },
  TRAINING_FAILED: { retryable: false, description: 'Training could not produce a model.' },
  MODEL_NOT_BETTER: { retryable: false, description: 'A candidate model scored lower than its baseline (evaluate --require-better); it is not promoted.' },

  // frames and sources
  SOURCE_UNAVAILABLE: { retryable: true, description: 'A camera or frame source cannot be reached.' },
  SOURCE_AUTH_FAILED: { retryable: false, description: 'A camera refused our credentials.' },
  SOURCE_STALLED: { retryable: true, description: 'A camera stopped delivering frames.' },
  SOURCE_PROTOCOL: { retryable: true, description: 'A camera answered with something we cannot use (bad status, content type or SOAP).' },
  SOURCE_SETTINGS_INVALID: { retryable: false, description: 'A camera refused its configured settings (a GenICam pixel format, ROI, exposure, gain, frame rate, packet size or trigger it does not offer); the message names each one and what the camera allows.' },
  FRAME_TOO_LARGE: { retryable: false, description: 'A frame exceeded the byte or pixel limit.' },
  FRAME_CORRUPT: { retryable: false, description: 'A frame could not be decoded.' },
  FRAME_UNSUPPORTED_FORMAT: { retryable: false, description: 'A frame is not JPEG or PNG by its content (the file name does not count): SVG, WebP, GIF, TIFF… are refused before decoding.' },
  FRAME_INVALID_SIZE: { retryable: false, description: 'A frame has dimensions outside what the model accepts, or is longer than 20:1.' },
  QUEUE_FULL: { retryable: true, description: 'A bounded queue is full; the item was refused and counted.' },
  PART_ID_EXPIRED: {
    retryable: false,
    description:
      'A part id announced for a camera fired by its own line (GenICam hardware trigger) saw no frame within `acquisition.partIdMaxAgeMs`: dropped, counted (`partIdExpired`) and logged, so later frames pair with later ids.',
  },
  PATH_ESCAPE: { retryable: false, description: 'A file name tried to leave its directory.' },

  // delivery
  OUTBOX_UNAVAILABLE: { retryable: true, description: 'The outbox database cannot be written (disk full, read-only, locked).' },
  OUTBOX_FULL: { retryable: false, description: 'The outbox reached its bound and no message could be evicted to make room.' },
  PAYLOAD_INVALID: { retryable: false, description: 'A message payload is malformed or too large (IoT Core rejects 128 KiB and more).' },
  PUBLISH_FAILED: { retryable: true, description: 'A publish was not acknowledged (broker or nucleus unreachable, timeout).' },
  PUBLISH_UNAUTHORIZED: { retryable: false, description: 'The broker or nucleus refused the topic (authorization).' },
  SUBSCRIBE_FAILED: { retryable: true, description: 'A subscription (PLC triggers, remote commands) was refused or not answered; it is made again on every reconnection.' },

  // PLC I/O
  MODBUS_UNAVAILABLE: {
    retryable: true,
    description: 'The PLC cannot be reached over Modbus TCP (refused, closed, or no answer within `plc.modbus.timeoutMs`); writes wait in their queue and are sent again once it answers.',
  },
  MODBUS_EXCEPTION: {
    retryable: false,
    description: 'The PLC answered a Modbus request with an exception (illegal address, device failure, busy…); a write is tried `plc.modbus.refusedRetries` times more, then dropped and counted.',
  },
  OPCUA_UNAVAILABLE: { retryable: true, description: 'The PLC\'s OPC UA server cannot be reached, or the session or a write was lost with the connection; verdict writes wait in the PLC queue and are retried.' },
  OPCUA_UNTRUSTED: {
    retryable: false,
    description: 'A SignAndEncrypt connection was refused over certificates: the server\'s is not in `plc.opcua.trustedServerCertificates`, or the server does not trust ours (add it to its trust list), or a certificate is unusable.',
  },
  OPCUA_AUTH_FAILED: { retryable: false, description: 'The OPC UA server refused the session\'s identity (`plc.opcua.user`, or anonymous where it wants a user).' },
  OPCUA_WRITE_REFUSED: {
    retryable: false,
    description: 'The OPC UA server answered a verdict write with a Bad status (BadUserAccessDenied, BadNotWritable, BadNodeIdUnknown, BadTypeMismatch…); that verdict is not written again, counted, and the next one is written.',
  },

  // Greengrass and operator surface
  IPC_FAILED: { retryable: true, description: 'A Greengrass IPC call failed or the connection to the nucleus dropped.' },
  COMMAND_INVALID: { retryable: false, description: 'A remote command was malformed or named an unknown target.' },
  UNAUTHORIZED: { retryable: false, description: 'An HTTP request lacked the required bearer token.' },
  RATE_LIMITED: { retryable: true, description: 'Too many wrong tokens from one address; wait for `Retry-After` seconds (HTTP 429).' },
  EVIDENCE_NOT_FOUND: { retryable: false, description: 'No kept evidence frame with that id (never kept, or evicted under the quota).' },
  EVIDENCE_UNAVAILABLE: { retryable: true, description: 'The evidence store cannot be read or written (not started, disk full, database locked).' },
  NOT_FOUND: { retryable: false, description: 'No such HTTP route, camera or preview (HTTP 404).' },
  METHOD_NOT_ALLOWED: { retryable: false, description: 'The HTTP method is not allowed on this route; state changes are POST only (HTTP 405).' },
  OPERATION_TIMEOUT: { retryable: true, description: 'A remote command or HTTP trigger did not finish before its deadline.' },

  // fleet deployment
  AWS_REQUEST_FAILED: { retryable: true, description: 'An AWS API call failed (throttling and 5xx are retried).' },
  DEPLOYMENT_FAILED: { retryable: false, description: 'A Greengrass deployment or component version did not succeed.' },
  SERVICE_ENDED: { retryable: false, description: 'The AWS service no longer accepts the request (Lookout for Vision ended on 2025-10-31).' },

  INTERNAL: { retryable: false, description: 'A bug: something that should not happen did.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface LookoutErrorOptions {
  cause?: unknown;
  /** Overrides the catalogue's default when one occurrence differs (rare). */
  retryable?: boolean;
  /** Structured context for logs; never secrets or image bytes. */
  details?: Record<string, unknown>;
}

export class LookoutError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: LookoutErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LookoutError';
    this.code = code;
    this.retryable = options.retryable ?? ERROR_CATALOGUE[code].retryable;
    this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, retryable: this.retryable, ...(this.details ? { details: this.details } : {}) };
  }
}

export function isLookoutError(err: unknown, code?: ErrorCode): err is LookoutError {
  return err instanceof LookoutError && (code === undefined || err.code === code);
}

/** Wraps anything thrown into a LookoutError, keeping the original as `cause`. */
export function toLookoutError(err: unknown, fallback: ErrorCode = 'INTERNAL'): LookoutError {
  if (err instanceof LookoutError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new LookoutError(fallback, message, { cause: err });
}
