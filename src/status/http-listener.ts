import { type IncomingMessage, type Server, type ServerOptions, type ServerResponse, createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { StatusConfig } from '../config/schema.js';
import { LookoutError, toLookoutError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { limitConnections } from './connection-limit.js';
import { SecureResponse, TlsSecureResponse } from './secure-response.js';
import type { TlsPair } from './tls-files.js';

export interface HttpListenerOptions {
  /** In messages: `status server`, `health server`. */
  readonly name: string;
  /** Host, port, timeouts and connection caps. */
  readonly config: Pick<StatusConfig, 'host' | 'port' | 'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs' | 'maxConnections' | 'maxConnectionsPerAddress'>;
  /** HTTPS with this certificate and key; plain HTTP without. */
  readonly tls?: TlsPair;
  readonly log: Logger;
  /** Answers one request; a rejection is logged and the connection destroyed. */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

export interface HttpListener {
  /** Where it listens: the real port when configured with 0. */
  readonly host: string;
  readonly port: number;
  readonly url: string;
  /** Stops accepting, closes idle connections at once and the others after `graceMs`. */
  close(graceMs: number): Promise<void>;
}

const MAX_HEADER_BYTES = 16 * 1024;

/**
 * Listens with the limits every HTTP endpoint of ours keeps, whatever it serves: header and request
 * timeouts checked every few hundred milliseconds (Node's default check, every 30 s, would make them
 * lax), a TLS handshake no longer than the headers may take, a header size cap, the connection caps
 * (total and per address), the security headers on every response (SecureResponse), and malformed or
 * slow requests answered 400/408/431 before any handler sees them. A port in use or a bad address is
 * CONFIG_INVALID.
 */
export async function listenHttp(o: HttpListenerOptions): Promise<HttpListener> {
  const { config, log } = o;
  const options: ServerOptions = {
    headersTimeout: Math.min(config.headersTimeoutMs, config.requestTimeoutMs),
    requestTimeout: config.requestTimeoutMs,
    maxHeaderSize: MAX_HEADER_BYTES,
    ServerResponse: SecureResponse,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(config.headersTimeoutMs / 2))),
  };
  const server: Server = o.tls
    ? createHttpsServer({ ...options, ...o.tls, ServerResponse: TlsSecureResponse, handshakeTimeout: config.headersTimeoutMs })
    : createServer(options);
  limitConnections(server, config, log);
  // every accepted socket, a TLS one still in its handshake included (closeAllConnections knows only HTTP ones)
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    o.handle(req, res).catch((err: unknown) => {
      log.error({ err: toLookoutError(err).toJSON() }, 'request handler escaped');
      res.destroy();
    });
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    // A failed TLS handshake (https forwards it here) gets no HTTP answer: there is no channel to send it on.
    const http = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code?.startsWith('HPE_') === true;
    if (http && socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(new LookoutError('CONFIG_INVALID', `${o.name} cannot listen on ${config.host}:${config.port}: ${err.code ?? err.message}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen(config.port, config.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err: toLookoutError(err).toJSON() }, `${o.name} error`));

  const bound = server.address() as AddressInfo;
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    host: bound.address,
    port: bound.port,
    url: `${o.tls ? 'https' : 'http'}://${host}:${bound.port}`,
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => {
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      }, graceMs);
      await closed;
      clearTimeout(grace);
    },
  };
}
