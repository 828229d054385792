import type { CommandsConfig } from '../config/slices/status.js';
import { toLookoutError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { CommandChannel, CommandTopics } from './command-channel.js';
import type { CommandProcessor } from './command-processor.js';
import type { CommandResponse } from './command-schema.js';
import { withDeadline } from '../core/deadline.js';

/** IoT Core refuses messages of 128 KiB and more. */
const MAX_RESPONSE_BYTES = 128 * 1024 - 1;

export interface CommandServiceDeps {
  readonly config: CommandsConfig;
  readonly channel: CommandChannel;
  readonly processor: CommandProcessor;
  readonly topics: CommandTopics;
  readonly log: Logger;
}

/** Serves remote commands: request topic in, one response per request out, echoing the transaction. */
export class CommandService {
  private readonly log: Logger;
  private readonly pending = new Set<Promise<void>>();
  private running = false;
  private subscribed = false;

  constructor(private readonly deps: CommandServiceDeps) {
    this.log = deps.log.child({ stage: 'commands' });
  }

  async start(): Promise<void> {
    this.running = true;
    if (this.subscribed) return;
    await this.deps.channel.subscribe(this.deps.topics.request, (payload) => this.onRequest(payload));
    this.subscribed = true;
    this.log.info({ topic: this.deps.topics.request }, 'listening for remote commands');
  }

  /** Stops answering new requests and waits for the ones in progress to be answered. */
  async stop(reason = 'stop'): Promise<void> {
    this.running = false;
    await Promise.allSettled([...this.pending]);
    this.log.info({ reason }, 'remote commands stopped');
  }

  private onRequest(payload: Buffer): void {
    if (!this.running) return;
    const work = this.answer(payload).finally(() => this.pending.delete(work));
    this.pending.add(work);
  }

  private async answer(payload: Buffer): Promise<void> {
    try {
      const response = await this.deps.processor.handle(payload);
      const bytes = encode(response);
      await withDeadline(this.deps.channel.publish(this.deps.topics.response, bytes), this.deps.config.timeoutMs, 'command response publish', 'OPERATION_TIMEOUT');
    } catch (err) {
      this.log.error({ err: toLookoutError(err, 'PUBLISH_FAILED').toJSON() }, 'could not answer a remote command');
    }
  }
}

function encode(response: CommandResponse): Buffer {
  const bytes = Buffer.from(JSON.stringify(response), 'utf8');
  if (bytes.length <= MAX_RESPONSE_BYTES) return bytes;
  const tooBig: CommandResponse = {
    transaction: response.transaction,
    ok: false,
    error: { code: 'PAYLOAD_INVALID', message: `the response (${bytes.length} bytes) is over the MQTT message limit` },
  };
  return Buffer.from(JSON.stringify(tooBig), 'utf8');
}
