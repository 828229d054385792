import * as grpc from '@grpc/grpc-js';
import { LookoutError, toLookoutError } from '../../core/errors.js';
import type { ByteAdmission, ReadReservation } from '../admission.js';

export interface ReadAdmissionDeps {
  readonly admission: ByteAdmission;
  /** The method whose requests are admitted before they are read, e.g. `/AWS.LookoutVision.EdgeAgent/DetectAnomalies`. */
  readonly path: string;
  /** Reserved per call while its request is read: the largest request the server accepts. */
  readonly maxMessageBytes: number;
  /** From the start of reading to the end of the request; a slower call is answered RESOURCE_EXHAUSTED. */
  readonly readTimeoutMs: number;
  /** How an error leaves the server (the adapter's status table). */
  readonly statusFor: (err: LookoutError) => grpc.status;
}

/**
 * Admission before a request is read, as a grpc-js server interceptor. grpc-js keeps a call's HTTP/2 stream
 * paused until the handler asks for the request (startRead, from the handler's onReceiveMetadata), so
 * holding back onReceiveMetadata keeps the request's bytes with the client (flow control: one stream
 * window, 64 KiB). A call reserves the largest request first (waiting in FIFO order while the budget is
 * full), is read within readTimeoutMs, and hands its reservation to the handler with the request
 * (claim()), which keeps what the request needs. A call cancelled or past its deadline while waiting or
 * being read gives its bytes back.
 */
export class ReadAdmission {
  /** Reservations of requests that have arrived, until the handler claims them (keyed by the request object). */
  private readonly arrived = new WeakMap<object, ReadReservation>();
  /** How to answer each call not yet handed to its handler (waiting for bytes, or being read). */
  private readonly unhanded = new Set<(details: string) => void>();

  constructor(private readonly deps: ReadAdmissionDeps) {}

  /** Answers UNAVAILABLE every call not yet handed to its handler, giving its bytes back; returns how many. */
  cutAll(details: string): number {
    const cuts = [...this.unhanded];
    for (const cut of cuts) cut(details);
    return cuts.length;
  }

  /** The reservation that came with `request`, now the caller's to release; undefined when none did. */
  claim(request: unknown): ReadReservation | undefined {
    if (typeof request !== 'object' || request === null) return undefined;
    const reservation = this.arrived.get(request);
    this.arrived.delete(request);
    return reservation;
  }

  readonly interceptor: grpc.ServerInterceptor = (method, next) => {
    if (method.path !== this.deps.path) return new grpc.ServerInterceptingCall(next);
    const { admission, maxMessageBytes, readTimeoutMs, statusFor } = this.deps;
    let gaveUp: AbortController | undefined; // made only for a call that has to wait
    let held: ReadReservation | undefined;
    let request: object | undefined;
    let timer: NodeJS.Timeout | undefined;
    let ended = false;
    const end = (): void => {
      this.unhanded.delete(cut);
      ended = true;
      clearTimeout(timer);
      gaveUp?.abort();
      held?.release();
      held = undefined;
    };
    const refuse = (err: LookoutError): void => {
      end();
      call.sendStatus({ code: statusFor(err), details: err.message });
    };
    const cut = (details: string): void => {
      end();
      call.sendStatus({ code: grpc.status.UNAVAILABLE, details });
    };
    this.unhanded.add(cut);
    const read = (reservation: ReadReservation, metadata: grpc.Metadata, readOn: (metadata: grpc.Metadata) => void): void => {
      held = reservation;
      timer = setTimeout(() => {
        admission.countReadTimeout();
        refuse(new LookoutError('REQUEST_READ_TIMEOUT', `the request did not arrive within modelServer.readTimeoutMs = ${readTimeoutMs} ms`));
      }, readTimeoutMs);
      readOn(metadata);
    };
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, readOn) => {
        const now = admission.tryReserveForRead(maxMessageBytes);
        if (now) return read(now, metadata, readOn);
        gaveUp = new AbortController();
        admission.reserveForRead(maxMessageBytes, gaveUp.signal).then(
          (reservation) => (ended ? reservation.release() : read(reservation, metadata, readOn)),
          (err: unknown) => {
            if (!ended) refuse(toLookoutError(err));
          },
        );
      })
      .withOnReceiveMessage((message: unknown, pass) => {
        if (typeof message === 'object' && message !== null) request = message;
        pass(message);
      })
      .withOnReceiveHalfClose((pass) => {
        this.unhanded.delete(cut); // from now on the handler answers the call
        clearTimeout(timer);
        const reservation = held;
        held = undefined;
        if (reservation && request) this.arrived.set(request, reservation);
        pass(); // the handler runs now, and claims the reservation
        // Not claimed (no request came, or the call was refused before its handler ran): given back here.
        if (reservation && (!request || this.claim(request) === reservation)) reservation.release();
      })
      .withOnCancel(end)
      .build();
    const call = new grpc.ServerInterceptingCall(next, { start: (startWith) => startWith(listener) });
    return call;
  };
}
