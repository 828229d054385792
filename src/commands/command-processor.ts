import type { CommandsConfig } from '../config/slices/status.js';
import { LookoutError, toLookoutError } from '../core/errors.js';
import type { InspectorControl } from '../core/inspector-status.js';
import type { Logger } from '../core/log.js';
import { type CommandRequest, type CommandResponse, commandRequestSchema, salvageTransaction } from './command-schema.js';
import { withDeadline } from '../core/deadline.js';

export interface CommandProcessorDeps {
  readonly config: CommandsConfig;
  readonly control: InspectorControl;
  /** The processor logs each command on a `{stage: 'audit'}` child of this logger. */
  readonly log: Logger;
}

/**
 * Turns a request payload into a response, whatever arrives: malformed JSON, unknown commands and
 * bad cameras are answered with `{ok: false, error}`, never thrown. Transport-agnostic: the
 * CommandService (or a test) moves the bytes.
 */
export class CommandProcessor {
  private readonly audit: Logger;
  private inFlight = 0;

  constructor(private readonly deps: CommandProcessorDeps) {
    this.audit = deps.log.child({ stage: 'audit' });
  }

  async handle(payload: Buffer | string): Promise<CommandResponse> {
    const started = performance.now();
    const bytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    let transaction: string | null = null;
    let command: string | undefined;
    let camera: string | undefined;
    let admitted = false;
    try {
      if (bytes > this.deps.config.maxRequestBytes) {
        throw new LookoutError('PAYLOAD_INVALID', `command request of ${bytes} bytes is over the ${this.deps.config.maxRequestBytes}-byte limit`);
      }
      let raw: unknown;
      try {
        raw = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
      } catch {
        throw new LookoutError('PAYLOAD_INVALID', 'command request is not valid JSON');
      }
      transaction = salvageTransaction(raw);
      if (typeof raw === 'object' && raw !== null && typeof (raw as { command?: unknown }).command === 'string') {
        command = String((raw as { command: string }).command).slice(0, 64);
      }
      const parsed = commandRequestSchema.safeParse(raw);
      if (!parsed.success) {
        const problems = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(request)'}: ${i.message}`);
        throw new LookoutError('COMMAND_INVALID', `invalid command request: ${problems.join('; ')}`, { details: { problems } });
      }
      const request = parsed.data;
      camera = request.camera;
      if (this.inFlight >= this.deps.config.maxInFlight) {
        throw new LookoutError('QUEUE_FULL', `already ${this.deps.config.maxInFlight} commands in progress; try again`);
      }
      this.inFlight += 1;
      admitted = true;
      const result = await withDeadline(this.execute(request), this.deps.config.timeoutMs, `command ${request.command}`, 'OPERATION_TIMEOUT');
      this.audit.info({ via: 'mqtt', transaction, command, camera, outcome: 'ok', ms: Math.round(performance.now() - started) }, `command ${command}`);
      return { transaction, ok: true, result };
    } catch (err) {
      const e = toLookoutError(err);
      const message = e.code === 'INTERNAL' ? 'internal error' : e.message;
      this.audit.warn(
        { via: 'mqtt', transaction, command, camera, outcome: 'error', error: { code: e.code, message: e.message }, ms: Math.round(performance.now() - started) },
        `command ${command ?? '(unreadable)'} failed`,
      );
      return { transaction, ok: false, error: { code: e.code, message } };
    } finally {
      if (admitted) this.inFlight -= 1;
    }
  }

  private async execute(request: CommandRequest): Promise<unknown> {
    const { control } = this.deps;
    const camera = request.camera;
    if (camera !== undefined && camera !== '*' && !control.status().cameras.some((c) => c.id === camera)) {
      throw new LookoutError('COMMAND_INVALID', `unknown camera ${JSON.stringify(camera)}`);
    }
    switch (request.command) {
      case 'set-threshold': {
        const threshold = request.threshold ?? null;
        control.setThreshold(camera ?? '*', threshold);
        return { camera: camera ?? '*', threshold };
      }
      case 'pause':
        control.pauseCamera(camera as string);
        return { camera, paused: true };
      case 'resume':
        control.resumeCamera(camera as string);
        return { camera, paused: false };
      case 'snapshot':
        return { verdict: await control.inspectNow(camera as string, request.partId) };
      case 'reload-model':
        return control.reloadModel();
    }
  }
}
