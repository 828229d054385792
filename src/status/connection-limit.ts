import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../core/log.js';

export interface ConnectionLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
}

/** At most one warning per this interval; the counts in it say how many were refused meanwhile. */
const LOG_EVERY_MS = 10_000;

/**
 * Caps the server's open connections in total and per remote address. A connection past either cap
 * is destroyed as it is accepted, before any byte is read, so it holds its descriptor for no time.
 */
export function limitConnections(server: Server, limits: ConnectionLimits, log: Logger): void {
  const perAddress = new Map<string, number>();
  let open = 0;
  let refused = 0;
  let lastLog = 0;

  const refuse = (socket: Socket, address: string, reason: 'total' | 'per-address'): void => {
    socket.destroy();
    refused++;
    const now = Date.now();
    if (now - lastLog >= LOG_EVERY_MS) {
      lastLog = now;
      log.warn({ reason, address, open, refused, ...limits }, 'connections refused');
      refused = 0;
    }
  };

  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const fromAddress = perAddress.get(address) ?? 0;
    if (open >= limits.maxConnections) return refuse(socket, address, 'total');
    if (fromAddress >= limits.maxConnectionsPerAddress) return refuse(socket, address, 'per-address');
    open++;
    perAddress.set(address, fromAddress + 1);
    socket.once('close', () => {
      open--;
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    });
  });
}
