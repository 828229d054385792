import { EventStreamCodec, type Message, type MessageHeaders } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

/**
 * AWS event-stream RPC framing as the Greengrass IPC server speaks it (extracted from
 * test/peers/greengrass-ipc-peer.ts, itself checked against the aws-iot-device-sdk-v2 greengrasscoreipc client):
 * Connect (:message-type 4, JSON {authToken}) → ConnectAck (5, :message-flags 1 = accepted); operations open a
 * stream (:stream-id > 0, header `operation: aws.greengrass#<Op>`); replies carry `service-model-type:
 * aws.greengrass#<Op>Response`, JSON, and the terminate-stream flag (2) unless the stream stays open; errors are
 * ApplicationError (1) frames with an `aws.greengrass#<Error>` shape.
 */

export const MESSAGE_TYPE = { ApplicationMessage: 0, ApplicationError: 1, Ping: 2, PingResponse: 3, Connect: 4, ConnectAck: 5, ProtocolError: 6 } as const;
export const FLAG_CONNECTION_ACCEPTED = 1;
export const FLAG_TERMINATE_STREAM = 2;

const codec = new EventStreamCodec(toUtf8, fromUtf8);

export function headerValue(headers: MessageHeaders, name: string): unknown {
  return headers[name]?.value;
}

export function encodeFrame(type: number, flags: number, streamId: number, extra: MessageHeaders, body: unknown): Uint8Array {
  return codec.encode({
    headers: {
      ':message-type': { type: 'integer', value: type },
      ':message-flags': { type: 'integer', value: flags },
      ':stream-id': { type: 'integer', value: streamId },
      ...extra,
    },
    body: body === undefined ? new Uint8Array(0) : fromUtf8(JSON.stringify(body)),
  });
}

export function modelHeaders(shape: string): MessageHeaders {
  return {
    'service-model-type': { type: 'string', value: `aws.greengrass#${shape}` },
    ':content-type': { type: 'string', value: 'application/json' },
  };
}

/** Splits a byte stream into frames (the first 4 bytes of a frame are its total length). */
export class FrameReader {
  private buffer = Buffer.alloc(0);
  push(chunk: Buffer): Message[] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const out: Message[] = [];
    while (this.buffer.length >= 4) {
      const total = this.buffer.readUInt32BE(0);
      if (this.buffer.length < total) break;
      out.push(codec.decode(this.buffer.subarray(0, total)));
      this.buffer = this.buffer.subarray(total);
    }
    return out;
  }
}

export function jsonBody(message: Message): Record<string, unknown> {
  return message.body.length ? (JSON.parse(toUtf8(message.body)) as Record<string, unknown>) : {};
}

export type { Message };
