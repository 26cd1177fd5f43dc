/** Id generation lives in the shell, never in deciders: they receive ids as arguments. */
import { createHash, randomBytes } from 'node:crypto';

/** A UUIDv7 (RFC 9562): time-ordered, so run ids sort by creation time. */
export function uuidv7(now: number = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | ((bytes[6] as number) & 0x0f);
  bytes[8] = 0x80 | ((bytes[8] as number) & 0x3f);
  return formatUuid(bytes);
}

/**
 * The run id an idempotency key stands for: a UUIDv8 from sha256(dagId, key). The same key on the
 * same DAG always names the same run stream, so "is this a repeat?" is answered by the stream
 * itself — no lookup table that could disagree with the log.
 */
export function runIdForIdempotencyKey(dagId: string, key: string): string {
  const bytes = createHash('sha256').update(`${dagId}\u0000${key}`).digest().subarray(0, 16);
  bytes[6] = 0x80 | ((bytes[6] as number) & 0x0f);
  bytes[8] = 0x80 | ((bytes[8] as number) & 0x3f);
  return formatUuid(bytes);
}

function formatUuid(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
