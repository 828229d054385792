import type { ServerResponse } from 'node:http';
import type { Logger } from '../core/log.js';

export interface EventStreamStats {
  readonly clients: number;
  /** Clients refused because `maxClients` were connected. */
  readonly refused: number;
  /** Clients dropped because they fell `maxBacklogBytes` behind. */
  readonly dropped: number;
}

export interface EventStreamDeps {
  readonly maxClients: number;
  readonly maxBacklogBytes: number;
  readonly log: Logger;
}

/**
 * Server-sent events to a bounded set of clients. Nothing is queued per client beyond the socket's
 * own buffer: a client whose unsent backlog passes the bound is disconnected (and counted) instead
 * of making the process hold frames for it forever. The browser's EventSource reconnects by itself.
 */
export class EventStream {
  private readonly clients = new Set<ServerResponse>();
  private refused = 0;
  private dropped = 0;

  constructor(private readonly deps: EventStreamDeps) {}

  get size(): number {
    return this.clients.size;
  }

  stats(): EventStreamStats {
    return { clients: this.clients.size, refused: this.refused, dropped: this.dropped };
  }

  /** Takes over the response; false (and nothing written) when the client bound is reached. */
  accept(res: ServerResponse, first?: { event: string; data: unknown }): boolean {
    if (this.clients.size >= this.deps.maxClients) {
      this.refused += 1;
      return false;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.socket?.setNoDelay(true);
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
    res.write('retry: 2000\n\n');
    if (first) this.writeTo(res, frame(first.event, first.data));
    return true;
  }

  broadcast(event: string, data: unknown, id?: string): void {
    if (this.clients.size === 0) return;
    const text = frame(event, data, id);
    for (const res of this.clients) this.writeTo(res, text);
  }

  /** A comment line: keeps proxies and idle timers from closing a quiet stream. */
  heartbeat(): void {
    for (const res of this.clients) this.writeTo(res, ': heartbeat\n\n');
  }

  closeAll(): void {
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private writeTo(res: ServerResponse, text: string): void {
    if (res.writableLength + text.length > this.deps.maxBacklogBytes) {
      this.dropped += 1;
      this.clients.delete(res);
      this.deps.log.warn({ backlog: res.writableLength, dropped: this.dropped }, 'dropping a slow live-events client');
      res.destroy();
      return;
    }
    res.write(text);
  }
}

/** One SSE frame; JSON never contains raw newlines, so a single `data:` line is enough. */
function frame(event: string, data: unknown, id?: string): string {
  const idLine = id === undefined ? '' : `id: ${id.replace(/[\r\n]/g, '')}\n`;
  return `${idLine}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
