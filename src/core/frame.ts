/** A part id as triggers and commands may give it (it travels in topics' payloads and file names). */
export const PART_ID_PATTERN = /^[\w.:/-]{1,128}$/;
export const PART_ID_RULE = 'partId: 1-128 of letters, digits and _ . : / -';

/** A captured frame, still encoded as the camera sent it (JPEG/PNG) or already raw (RTSP, GenICam). */
export interface Frame {
  /** Unique per frame: `<camera>-<capture time ms>-<sequence>`. */
  readonly id: string;
  readonly cameraId: string;
  /** Set when a trigger asked for this part (PLC "inspect part 1234"). */
  readonly partId?: string;
  /** Wall-clock capture time, ms since epoch. */
  readonly capturedAt: number;
  readonly data: EncodedFrameData | RawFrameData;
  /** Where it came from, for operators: a file name, a URL, an RTSP stream. */
  readonly origin?: string;
}

export interface EncodedFrameData {
  readonly kind: 'encoded';
  readonly bytes: Buffer;
}

export interface RawFrameData {
  readonly kind: 'raw';
  readonly width: number;
  readonly height: number;
  /** Packed RGB888, or 8-bit grey when `channels` is 1 (a mono machine-vision camera). */
  readonly pixels: Buffer;
  /** 3 when absent. */
  readonly channels?: 1 | 3;
}
