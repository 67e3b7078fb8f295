import type { Logger } from "../../core/logger.js";
import type { BatchDevice } from "../../schemas/batch.js";
import type { BatchEncoder } from "../encoder.js";
import type { EncodedBatch, EncoderSettings } from "../encoder-protocol.js";
import { tcpReachable } from "../probe.js";
import type { QueuedReading, SyncQueue } from "../queue.js";
import { HttpOutput } from "./http.js";
import { READINGS_OUTPUT } from "./names.js";
import { type Delivery, type Drain, RunningOutput } from "./running-output.js";
import { originalSerializer, type ParcelLimits, readingsBatchSerializer } from "./serializers.js";

/**
 * Requests in flight at once while draining a backlog. Three keep both sides
 * busy while a batch is built, gzip'd and answered: 3-11 % more readings/s
 * than two in paired runs (1 M to the minimal receiver, 2-core VM); a crash
 * re-sends at most three batches, which the endpoint dedupes.
 */
const PIPELINE_DEPTH = 3;
/**
 * How often a long backfill looks for new live readings to send ahead of the
 * backlog: the bound on how late a live reading arrives during a drain. Each
 * look waits for the requests in flight, ~1 % of a drain's rate at this period.
 */
const LIVE_CHECK_MS = 250;
/**
 * A probe gives up after this: with SYNs dropped the kernel retransmits only
 * after 1 s, so a fresh probe reaches a returned endpoint sooner than waiting.
 */
const PROBE_TIMEOUT_MS = 1000;

/** The device as the readings formats carry it. */
export interface ReadingsDevice {
  id: string;
  group: string;
  /** "lat, lng", or null. */
  gps: string | null;
  /** IANA zone the original format's `createdtime` is written in. */
  timezone: string;
}

/** `[sync]` as the readings upload reads it. */
export interface ReadingsUploadSettings {
  endpoint: string;
  format: "batch" | "original";
  index: string;
  compress: boolean;
  timeoutMs: number;
  batchMaxReadings: number;
  batchMaxBytes: number;
  backlogBatchMaxReadings: number;
  backlogBatchMaxBytes: number;
  /** Readings per second a drain stays at or under. */
  maxRate: number;
}

export interface ReadingsUploadDeps {
  settings: ReadingsUploadSettings;
  device: ReadingsDevice;
  queue: SyncQueue;
  log: Logger;
  apiKey: () => string | null;
  /** The `x-sensord-thresholds` value each request carries (see HttpOutputOptions). */
  report?: () => string | null;
  /** Starts the encoder thread for a long drain (batch format); without it, batches are built here. */
  encoder?: (settings: EncoderSettings) => BatchEncoder;
  random?: () => number;
}

/** The device section of `sensord.batch.v1` (gps left out when there is none). */
export function batchDevice(device: ReadingsDevice): BatchDevice {
  return device.gps === null
    ? { id: device.id, group: device.group }
    : { id: device.id, group: device.group, gps: device.gps };
}

/**
 * The HTTP readings upload: committed readings to `[sync] endpoint`, in the
 * batch or the original format, live first, then the backlog (readingsDrain).
 */
export function readingsUpload(deps: ReadingsUploadDeps): RunningOutput<QueuedReading> {
  const { settings, device, queue } = deps;
  const original = settings.format === "original";
  const liveLimits = { items: settings.batchMaxReadings, bytes: settings.batchMaxBytes };
  const backlogLimits = {
    // One backlog batch is sent, then the drain sleeps to keep max_rate: a
    // batch of more than LIVE_CHECK_MS worth of max_rate would make live
    // readings wait behind that sleep.
    items: Math.max(
      settings.batchMaxReadings,
      Math.min(
        settings.backlogBatchMaxReadings,
        Math.floor((settings.maxRate * LIVE_CHECK_MS) / 1000),
      ),
    ),
    bytes: settings.backlogBatchMaxBytes,
  };
  const envelope = batchDevice(device);
  const startEncoder = deps.encoder;
  const output = new HttpOutput({
    name: READINGS_OUTPUT,
    url: settings.endpoint,
    index: settings.index,
    compress: settings.compress,
    timeoutMs: settings.timeoutMs,
    apiKey: deps.apiKey,
    ...(deps.report === undefined ? {} : { report: deps.report }),
    // The original document carries neither device nor zone; these let a
    // receiver that knows them (sensord-ingest) place it. Others ignore them.
    ...(original ? { headers: { "x-device-id": device.id, "x-timezone": device.timezone } } : {}),
  });
  return new RunningOutput({
    output,
    backlog: {
      ack: (seqs) => queue.markUploaded(seqs),
      quarantine: (seqs, info) => queue.quarantine(seqs, info),
    },
    serialize: original ? originalSerializer(device) : readingsBatchSerializer(envelope),
    limits: liveLimits,
    drain: readingsDrain({
      queue,
      liveLimits,
      backlogLimits,
      maxRate: settings.maxRate,
      log: deps.log,
      encoder:
        original || startEncoder === undefined
          ? null
          : () =>
              startEncoder({
                device: envelope,
                batchMaxReadings: backlogLimits.items,
                batchMaxBytes: backlogLimits.bytes,
                compress: settings.compress,
                sink: READINGS_OUTPUT,
              }),
    }),
    wording: {
      activity: "upload",
      items: "readings",
      kept: "everything",
      endpoint: "endpoint",
      later: "readings",
    },
    log: deps.log,
    reachable: () => tcpReachable(settings.endpoint, PROBE_TIMEOUT_MS),
    ...(deps.random === undefined ? {} : { random: deps.random }),
  });
}

interface ReadingsDrainOptions {
  queue: SyncQueue;
  liveLimits: ParcelLimits;
  backlogLimits: ParcelLimits;
  maxRate: number;
  log: Logger;
  /** Starts the encoder thread for the rest of a backlog; null: batches are built on this thread. */
  encoder: (() => BatchEncoder) | null;
}

/**
 * One cycle of the readings upload: the newest pending batch first, so live
 * data never waits behind a backlog, then the backlog oldest-first at no more
 * than `maxRate`, with PIPELINE_DEPTH requests in flight and, for a long
 * backlog, the encoder thread reading and gzipping while this thread posts.
 */
function readingsDrain(options: ReadingsDrainOptions): Drain<QueuedReading> {
  const { queue, liveLimits, backlogLimits } = options;
  return async (delivery) => {
    const started = performance.now();
    let sent = 0;
    const live = queue.newestPending(liveLimits.items);
    sent += await delivery.deliver(live, liveLimits);
    // Readings handed to requests: max_rate paces these, not the ones
    // answered, or a pipeline of big backlog batches would run ahead of it.
    let dispatched = live.length;
    let cursor = 0;
    let lastLiveCheck = performance.now();
    // Several requests in flight: the next batch is read and gzip'd while
    // the previous ones travel, so the two sides work at the same time
    // instead of taking turns. Ranges in the queue make out-of-order marking safe.
    const flights: Promise<number>[] = [];
    const land = async (): Promise<void> => {
      const flight = flights.shift();
      if (flight !== undefined) sent += await flight;
    };
    // A full first read means a backlog: the rest is read and encoded by
    // the encoder thread, if there is one, from where this thread stopped.
    let encoder: BatchEncoder | null = null;
    let drained = false;
    try {
      while (!delivery.stopping && !drained) {
        let flight: Promise<number>;
        if (encoder === null) {
          const backlog = queue.oldestPending(cursor, backlogLimits.items);
          const last = backlog.at(-1);
          if (last === undefined) break;
          cursor = last.seq;
          dispatched += backlog.length;
          flight = delivery.deliver(backlog, backlogLimits);
          if (backlog.length >= backlogLimits.items && options.encoder !== null) {
            encoder = options.encoder();
            encoder.from(cursor);
            options.log.debug(
              `backlog above seq ${cursor}: read and encoded on the encoder thread`,
            );
          }
        } else {
          flight = encoder.next().then(async (read) => {
            if (read === null) {
              drained = true;
              return 0;
            }
            cursor = Math.max(cursor, read.lastSeq);
            for (const batch of read.batches) dispatched += batch.seqs.length;
            let accepted = 0;
            for (const batch of read.batches) {
              accepted += await deliverEncoded(delivery, queue, batch, backlogLimits);
            }
            return accepted;
          });
        }
        // Settled later by land(); until then a rejection must not count as unhandled.
        flight.catch(() => undefined);
        flights.push(flight);
        if (flights.length >= PIPELINE_DEPTH) await land();
        if (performance.now() - lastLiveCheck >= LIVE_CHECK_MS) {
          // Every read in flight has landed, so `cursor` is where the backlog reads stand.
          while (flights.length > 0) await land();
          const fresh = queue.newestPending(liveLimits.items).filter((item) => item.seq > cursor);
          dispatched += fresh.length;
          sent += await delivery.deliver(fresh, liveLimits);
          lastLiveCheck = performance.now();
        }
        await pace(dispatched, started, options.maxRate);
      }
      while (flights.length > 0) await land();
    } finally {
      // A failed flight stops the cycle; the others must still settle before the next cycle reads the queue.
      await Promise.allSettled(flights);
      await encoder?.close();
    }
    return sent;
  };
}

/** A batch from the encoder thread; a 413 is cut here, where the readings can be read again. */
function deliverEncoded(
  delivery: Delivery<QueuedReading>,
  queue: SyncQueue,
  batch: EncodedBatch,
  limits: ParcelLimits,
): Promise<number> {
  const body = Buffer.from(batch.body.buffer, batch.body.byteOffset, batch.body.byteLength);
  const reread = () => {
    const wanted = new Set(batch.seqs);
    const first = batch.seqs[0] ?? 0;
    return queue.oldestPending(first - 1, batch.seqs.length).filter((item) => wanted.has(item.seq));
  };
  return delivery.deliverParcel(
    { id: batch.batchId, seqs: batch.seqs, body: { body, headers: batch.headers } },
    reread,
    limits,
  );
}

/** Sleeps as needed to keep the drain at or under `maxRate` readings/s. */
async function pace(dispatched: number, started: number, maxRate: number): Promise<void> {
  const earliest = started + (dispatched / maxRate) * 1000;
  const wait = earliest - performance.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}
