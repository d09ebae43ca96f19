/**
 * The write-ahead log's records. Only what cannot be derived is written: a put's createRevision and
 * version follow from the state it is replayed onto, exactly as they did when it was first applied.
 *   put:     u8 1 | u48 revision | u32 key length | key (UTF-8) | value
 *   delete:  u8 2 | u48 revision | key (UTF-8)
 *   compact: u8 3 | u48 revision
 */
export type WalRecord =
  | { readonly op: 'put'; readonly revision: number; readonly key: string; readonly value: Uint8Array }
  | { readonly op: 'delete'; readonly revision: number; readonly key: string }
  | { readonly op: 'compact'; readonly revision: number };

const OP_PUT = 1;
const OP_DELETE = 2;
const OP_COMPACT = 3;
const REVISION_BYTES = 6;

export function encodeRecord(record: WalRecord): Buffer {
  switch (record.op) {
    case 'put': {
      const keyBytes = Buffer.byteLength(record.key);
      const out = Buffer.allocUnsafe(1 + REVISION_BYTES + 4 + keyBytes + record.value.length);
      out[0] = OP_PUT;
      out.writeUIntBE(record.revision, 1, REVISION_BYTES);
      out.writeUInt32BE(keyBytes, 7);
      out.write(record.key, 11, 'utf8');
      out.set(record.value, 11 + keyBytes);
      return out;
    }
    case 'delete': {
      const out = Buffer.allocUnsafe(1 + REVISION_BYTES + Buffer.byteLength(record.key));
      out[0] = OP_DELETE;
      out.writeUIntBE(record.revision, 1, REVISION_BYTES);
      out.write(record.key, 7, 'utf8');
      return out;
    }
    case 'compact': {
      const out = Buffer.allocUnsafe(1 + REVISION_BYTES);
      out[0] = OP_COMPACT;
      out.writeUIntBE(record.revision, 1, REVISION_BYTES);
      return out;
    }
  }
}

export function decodeRecord(payload: Buffer): WalRecord {
  const op = payload[0];
  const revision = payload.readUIntBE(1, REVISION_BYTES);
  switch (op) {
    case OP_PUT: {
      const keyBytes = payload.readUInt32BE(7);
      const key = payload.toString('utf8', 11, 11 + keyBytes);
      // Copy: the payload is a view into a large read buffer that must not stay pinned.
      const value = Buffer.from(payload.subarray(11 + keyBytes));
      return { op: 'put', revision, key, value };
    }
    case OP_DELETE:
      return { op: 'delete', revision, key: payload.toString('utf8', 7) };
    case OP_COMPACT:
      return { op: 'compact', revision };
    default:
      throw new Error(`unknown WAL record type ${String(op)}`);
  }
}
