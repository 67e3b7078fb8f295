import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { gzip, gzipSync } from "node:zlib";
import { VERSION } from "../core/version.js";
import type { Batch, BatchDevice } from "../schemas/batch.js";

export const BATCH_SCHEMA = "sensord.batch.v1";

/** 128 bits: as strong as a random UUID for an idempotency key, and short on the wire. */
const ID_BYTES = 16;
/** base64url of 16 bytes, no padding. */
export const BATCH_ID_LENGTH = 22;

/** Bodies at or below this are sent plain: gzip's 18-byte frame plus CPU buys nothing. */
export const GZIP_MIN_BYTES = 1024;

/**
 * zlib level 1. Measured on this repo's build machine (Xeon, 2 vCPU, Node 20)
 * over 200k realistic readings (~125 B of JSON each) in batches of 1000-5000,
 * median of 5 runs:
 *   level 1: 10.8-11.0 B/reading, 0.4-0.9 us/reading
 *   level 6:  8.6-8.9 B/reading, 1.2-2.0 us/reading
 * Level 6 saves ~2 B/reading (~20%) for 2.5-3x the CPU. A Pi 4 core is ~4-6x
 * slower than that Xeon, so level 6 alone would cap a drain near 110-170k
 * readings/s (below the 205k/s Fluent Bit manages) and block the event loop
 * (where the sampler runs) ~3x longer per batch, while level 1 already ships
 * under half of Fluent Bit's 24.8 B/reading.
 */
export const GZIP_LEVEL = 1;

/**
 * Length-prefixing each part keeps ("ab","c") and ("a","bc") from hashing
 * alike. The parts are joined into one string first: one update() of a
 * batch's 1000 ids costs a fifth of 1000 update() calls, same digest.
 */
function hashParts(domain: string, parts: Iterable<string>): string {
  let text = `${domain}\n`;
  for (const part of parts) text += `${Buffer.byteLength(part)}:${part}`;
  return createHash("sha256").update(text).digest().subarray(0, ID_BYTES).toString("base64url");
}

/**
 * The idempotency key of a batch: a hash of who sent it and which readings it
 * holds (reading ids are unique and immutable), so re-building the same batch
 * after a crash gives the same key and the server drops the repeat.
 */
export function batchId(deviceId: string, readingIds: readonly string[]): string {
  return hashParts("sensord.batch.v1", [deviceId, ...readingIds]);
}

/** The same construction under another domain, for ids that have no device id to hand. */
export function contentId(domain: string, parts: readonly string[]): string {
  return hashParts(domain, parts);
}

/** What a batch is built from: a queued reading's id and its JSON (see QueuedReading). */
export interface BatchItem {
  id: string;
  json: string;
}

/**
 * A batch's JSON text, joined from its readings' JSON: the same text as
 * `JSON.stringify` of the batch object, without serializing every reading
 * again for every attempt.
 */
export function batchJson(
  device: BatchDevice,
  items: readonly BatchItem[],
): { batchId: string; json: string } {
  const id = batchId(
    device.id,
    items.map((item) => item.id),
  );
  const head = `{"schema":"${BATCH_SCHEMA}","device":${JSON.stringify(copyDevice(device))},"batchId":"${id}","readings":[`;
  return { batchId: id, json: `${head}${items.map((item) => item.json).join(",")}]}` };
}

/** Only the schema's keys, in the schema's order, so the envelope size is predictable. */
function copyDevice(device: BatchDevice): BatchDevice {
  const copy: BatchDevice = { id: device.id, group: device.group };
  if (device.gps !== undefined) copy.gps = device.gps;
  return copy;
}

/**
 * Exact bytes of a batch's JSON besides its readings: `{...,"readings":[]}`.
 * The batch id has a fixed length, so a placeholder measures the same.
 */
export function batchEnvelopeBytes(device: BatchDevice): number {
  const envelope: Batch = {
    schema: BATCH_SCHEMA,
    device: copyDevice(device),
    batchId: "x".repeat(BATCH_ID_LENGTH),
    readings: [],
  };
  return Buffer.byteLength(JSON.stringify(envelope));
}

/**
 * Room left for the device section when the caller does not pass the exact
 * envelope: the fixed keys take ~90 bytes, leaving ~420 for id, group and gps.
 * Pass `batchEnvelopeBytes(device)` to be exact whatever the device strings are.
 */
export const DEFAULT_ENVELOPE_BYTES = 512;

/**
 * Consecutive chunks of at most `maxReadings` items whose batch JSON stays
 * within `maxBytes`. The size is exact, not estimated: a batch serializes as
 * envelope + readings joined by commas, and each reading knows its JSON's size.
 * A reading that cannot fit even alone still gets a chunk of its own rather
 * than blocking the queue: the server may take it, and if it answers 413 the
 * worker quarantines that one reading.
 */
export function chunkReadings<T extends { bytes: number }>(
  items: T[],
  maxReadings: number,
  maxBytes: number,
  envelopeBytes: number = DEFAULT_ENVELOPE_BYTES,
): T[][] {
  if (!(maxReadings >= 1)) throw new RangeError(`maxReadings must be >= 1, got ${maxReadings}`);
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = envelopeBytes;
  for (const item of items) {
    const size = item.bytes;
    // A comma separates every reading after the first.
    if (current.length > 0 && (current.length >= maxReadings || bytes + 1 + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = envelopeBytes;
    }
    bytes += current.length === 0 ? size : size + 1;
    current.push(item);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export interface EncodedBody {
  body: Buffer;
  headers: Record<string, string>;
}

const gzipAsync = promisify(gzip);
const JSON_HEADERS = { "content-type": "application/json" };
const GZIP_HEADERS = { "content-type": "application/json", "content-encoding": "gzip" };

/**
 * JSON body plus its content headers; gzip when asked and the body is over
 * 1 KiB. The gzip runs on libuv's thread pool, so during a drain the event
 * loop reads and builds the next batch (and the sampler keeps its schedule)
 * while this one compresses: on a 2-core box that is ~10 % more readings/s.
 */
export async function encodeBody(jsonText: string, compress: boolean): Promise<EncodedBody> {
  const json = Buffer.from(jsonText);
  if (compress && json.length > GZIP_MIN_BYTES) {
    return { body: await gzipAsync(json, { level: GZIP_LEVEL }), headers: { ...GZIP_HEADERS } };
  }
  return { body: json, headers: { ...JSON_HEADERS } };
}

/** encodeBody for a thread of its own (daemon/store/encoder-thread.ts), where blocking costs nothing. */
export function encodeBodySync(jsonText: string, compress: boolean): EncodedBody {
  const json = Buffer.from(jsonText);
  if (compress && json.length > GZIP_MIN_BYTES) {
    return { body: gzipSync(json, { level: GZIP_LEVEL }), headers: { ...GZIP_HEADERS } };
  }
  return { body: json, headers: { ...JSON_HEADERS } };
}

/**
 * Halves for a 413: the first half gets the extra item of an odd count. Null
 * for fewer than two items: a single reading the server refuses as too large
 * cannot be made smaller, so the caller has to quarantine it.
 */
export function splitInHalf<T>(items: readonly T[]): [T[], T[]] | null {
  if (items.length < 2) return null;
  const middle = Math.ceil(items.length / 2);
  return [items.slice(0, middle), items.slice(middle)];
}

export interface UploadHeaderOptions {
  /** The batch id (or the original document's id). */
  idempotencyKey: string;
  /** The original system's `index` header (e.g. gasdetect); left out when null. */
  index?: string | null;
  /** Sent as x-api-key when configured. Never log the result of this function. */
  apiKey?: string | null;
  /** From encodeBody: content-type and, when compressed, content-encoding. */
  contentHeaders: Record<string, string>;
}

/** Every header of an upload POST, lowercase names, per the sync contract. */
export function uploadHeaders(options: UploadHeaderOptions): Record<string, string> {
  const headers: Record<string, string> = {
    ...options.contentHeaders,
    "idempotency-key": options.idempotencyKey,
    "user-agent": `sensord/${VERSION}`,
  };
  if (options.index !== undefined && options.index !== null) headers.index = options.index;
  if (options.apiKey !== undefined && options.apiKey !== null)
    headers["x-api-key"] = options.apiKey;
  return headers;
}
