import { crc32 } from 'node:zlib';

/**
 * Checksummed frames, the unit of everything the embedded store writes to disk:
 *   u32 payload length | u32 CRC-32 of the payload | payload
 * A reader stops at the first frame that is incomplete or fails its checksum, so a write torn by a
 * crash is detected and never mis-read as data.
 */
export const FRAME_HEADER_BYTES = 8;
/** No single record may exceed this; a larger length field means a corrupt or torn header. */
export const MAX_FRAME_PAYLOAD = 64 * 1024 * 1024;

export function frame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.writeUInt32BE(crc32(payload), 4);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

export interface FrameScan {
  /** Payloads of every intact frame, in order. */
  readonly payloads: Buffer[];
  /** Byte offset just past the last intact frame. */
  readonly validBytes: number;
  /** Why scanning stopped before the end of the buffer, if it did. */
  readonly damage?: string;
}

export function scanFrames(buffer: Buffer): FrameScan {
  const payloads: Buffer[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    if (buffer.length - offset < FRAME_HEADER_BYTES) {
      return { payloads, validBytes: offset, damage: `incomplete frame header at byte ${offset}` };
    }
    const length = buffer.readUInt32BE(offset);
    const checksum = buffer.readUInt32BE(offset + 4);
    if (length > MAX_FRAME_PAYLOAD) {
      return { payloads, validBytes: offset, damage: `implausible frame length ${length} at byte ${offset}` };
    }
    const end = offset + FRAME_HEADER_BYTES + length;
    if (end > buffer.length) {
      return { payloads, validBytes: offset, damage: `incomplete frame at byte ${offset}` };
    }
    const payload = buffer.subarray(offset + FRAME_HEADER_BYTES, end);
    if (crc32(payload) !== checksum) {
      return { payloads, validBytes: offset, damage: `checksum mismatch at byte ${offset}` };
    }
    payloads.push(payload);
    offset = end;
  }
  return { payloads, validBytes: offset };
}
