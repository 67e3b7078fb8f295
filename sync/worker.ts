import cron, { type ScheduledTask } from "node-cron";
import { describeError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { VERSION } from "../core/version.js";
import type { BatchDevice } from "../schemas/batch.js";
import type { DeviceConfig, SyncConfig } from "../schemas/config-types.js";
import type { AlertUploadQueue } from "./alerts-queue.js";
import { AlertUploader } from "./alerts-uploader.js";
import {
  batchEnvelopeBytes,
  batchJson,
  chunkReadings,
  type EncodedBody,
  encodeBody,
  splitInHalf,
} from "./batch.js";
import type { BatchEncoder } from "./encoder.js";
import type { EncodedBatch, EncoderSettings } from "./encoder-protocol.js";
import { createUploadAgent, postBody } from "./http.js";
import { originalDocuments } from "./original.js";
import { classifyFailure, classifyResponse, nextDelayMs, type UploadOutcome } from "./policy.js";
import { tcpReachable } from "./probe.js";
import type { QuarantinedBatch, QueuedReading, QueueStats, SyncQueue } from "./queue.js";

export type SyncState = "idle" | "uploading" | "backoff" | "auth_failed" | "stopped";

export interface SyncStatus {
  state: SyncState;
  endpoint: string;
  lastSuccessAt: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
  /** When the next attempt after a failure is due (epoch ms), or null. */
  nextAttemptAt: number | null;
  consecutiveFailures: number;
  uploadedTotal: number;
  requests: number;
  /** Request body bytes sent (gzip'd when compressed), every attempt counted. */
  bytesSent: number;
  /** Attempts that failed (each retry counts), since start. */
  failuresTotal: number;
  /** Readings per second over the last cycle that uploaded anything. */
  readingsPerSecond: number;
  queue: QueueStats;
  quarantined: QuarantinedBatch[];
  /** Alert event uploads (sync/alerts-uploader.ts); null when off. */
  alerts: {
    endpoint: string;
    pending: number;
    uploadedTotal: number;
    /** Events the endpoint refused as invalid, kept in the database. */
    quarantined: number;
    lastError: string | null;
  } | null;
}

export interface SyncWorkerDeps {
  config: SyncConfig;
  device: DeviceConfig;
  queue: SyncQueue;
  log: Logger;
  /** Reads the API key, once per cycle (so a key file fixed after an auth failure is picked up); null: none. */
  apiKey: () => string | null;
  /** Alert events to upload; without it (or with alerts_endpoint = "") alerts stay on the device. */
  alertQueue?: AlertUploadQueue;
  /**
   * Starts a batch encoder for a long drain (sync/encoder.ts: a thread that
   * reads and gzips while this one posts); without it, batches are built here.
   */
  encoder?: (settings: EncoderSettings) => BatchEncoder;
  random?: () => number;
}

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
 * While readings wait and the endpoint cannot be reached (refused, no route,
 * connect timeout), a TCP connect probes it every 200-400 ms (uniform jitter,
 * so a fleet that lost the same endpoint does not reconnect in step), and the
 * cycle starts the moment one connects: the backlog moves within ~0.3 s of the
 * endpoint's return instead of at the next 1-10 s retry. A refused connect
 * costs the server nothing; the 1-10 s retries stay as they were, as a backstop.
 */
const PROBE_MIN_MS = 200;
const PROBE_MAX_MS = 400;
/**
 * A probe gives up after this: with SYNs dropped the kernel retransmits only
 * after 1 s, so a fresh probe reaches a returned endpoint sooner than waiting.
 */
const PROBE_TIMEOUT_MS = 1000;
/** Response bodies are kept to this size: enough for an error reason, never a memory problem. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** Cycles that upload at least this many readings are logged at info level. */
const BACKFILL_REPORT_READINGS = 10_000;

/** How many readings and body bytes one request carries at most. */
interface BatchLimits {
  readings: number;
  bytes: number;
}

/** Why a cycle stopped early: the caller's schedule decides when to try again. */
class Halt extends Error {}

/**
 * Uploads committed readings on the cron schedule (or continuously at
 * `interval`): each cycle sends the newest pending batch first, so live data
 * never waits behind a backlog, then drains the backlog oldest-first at no more
 * than `max_rate`. Every outcome follows sync/policy.ts; nothing is ever dropped.
 */
export class SyncWorker {
  private task: ScheduledTask | null = null;
  private timer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private probeTimer: NodeJS.Timeout | null = null;
  /** Set while the last attempt found the endpoint unreachable: see PROBE_MIN_MS. */
  private probing = false;
  private apiKey: string | null = null;
  /** Set when this cycle has scheduled its retry. */
  private retryScheduled = false;
  private lastFailureKind: UploadOutcome["kind"] | null = null;
  private cycleRunning: Promise<void> | null = null;
  private stopping = false;
  private readonly status_: Omit<SyncStatus, "queue" | "quarantined" | "endpoint" | "alerts"> = {
    state: "idle",
    lastSuccessAt: null,
    lastError: null,
    lastErrorAt: null,
    nextAttemptAt: null,
    consecutiveFailures: 0,
    uploadedTotal: 0,
    requests: 0,
    bytesSent: 0,
    failuresTotal: 0,
    readingsPerSecond: 0,
  };
  private readonly batchDevice: BatchDevice;
  /** Bytes of a batch besides its readings: chunking keeps every request under batch_max_bytes. */
  private readonly envelopeBytes: number;
  /** Ends an in-flight request at shutdown instead of waiting out its timeout. */
  private readonly abort = new AbortController();
  private readonly agent;
  private readonly alerts: AlertUploader | null;
  private readonly liveLimits: BatchLimits;
  private readonly backlogLimits: BatchLimits;

  constructor(private readonly deps: SyncWorkerDeps) {
    const { device, config } = deps;
    this.liveLimits = { readings: config.batchMaxReadings, bytes: config.batchMaxBytes };
    this.backlogLimits = {
      // One backlog batch is sent, then the drain sleeps to keep max_rate: a
      // batch of more than LIVE_CHECK_MS worth of max_rate would make live
      // readings wait behind that sleep.
      readings: Math.max(
        config.batchMaxReadings,
        Math.min(
          config.backlogBatchMaxReadings,
          Math.floor((config.maxRate * LIVE_CHECK_MS) / 1000),
        ),
      ),
      bytes: config.backlogBatchMaxBytes,
    };
    this.agent = createUploadAgent({
      connectTimeoutMs: config.timeoutMs,
      headersTimeoutMs: config.timeoutMs,
      bodyTimeoutMs: config.timeoutMs,
    });
    this.batchDevice =
      device.gps === null
        ? { id: device.id, group: device.group }
        : { id: device.id, group: device.group, gps: device.gps };
    this.envelopeBytes = batchEnvelopeBytes(this.batchDevice);
    const alertsUrl = config.alertsEndpoint;
    this.alerts =
      alertsUrl === null || deps.alertQueue === undefined
        ? null
        : new AlertUploader({
            endpoint: alertsUrl,
            device: this.batchDevice,
            queue: deps.alertQueue,
            maxBytes: config.batchMaxBytes,
            post: (url, json, key) => this.post(json, key, url),
            log: deps.log,
            onRetryDue: () => void this.trigger(),
            ...(deps.random === undefined ? {} : { random: deps.random }),
          });
  }

  start(): void {
    const { config } = this.deps;
    if (config.intervalMs > 0) {
      this.timer = setInterval(() => void this.trigger(), config.intervalMs);
    } else {
      this.task = cron.schedule(config.schedule, () => void this.trigger(), { noOverlap: true });
    }
    void this.trigger();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.status_.state = "stopped";
    await this.task?.stop();
    if (this.timer) clearInterval(this.timer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.stopProbing();
    this.alerts?.stop();
    this.abort.abort();
    await this.cycleRunning;
    await this.agent.destroy();
  }

  /** Runs a cycle now unless one is running (then waits for it) or a backoff is pending. */
  trigger(options: { force?: boolean } = {}): Promise<void> {
    if (this.cycleRunning) return this.cycleRunning;
    const due = this.status_.nextAttemptAt;
    if (!options.force && due !== null && Date.now() < due) return Promise.resolve();
    this.cycleRunning = this.cycle().finally(() => {
      this.cycleRunning = null;
    });
    return this.cycleRunning;
  }

  status(): SyncStatus {
    return {
      ...this.status_,
      endpoint: this.deps.config.endpoint,
      queue: this.deps.queue.stats(),
      quarantined: this.deps.queue.quarantined(),
      alerts: this.alertsStatus(),
    };
  }

  private alertsStatus(): SyncStatus["alerts"] {
    if (this.alerts === null) return null;
    const { endpoint, pending, uploadedTotal, quarantined, lastError } = this.alerts.status();
    return { endpoint, pending, uploadedTotal, quarantined, lastError };
  }

  private async cycle(): Promise<void> {
    if (this.stopping) return;
    const { queue, config } = this.deps;
    const started = performance.now();
    let sent = 0;
    this.status_.state = "uploading";
    this.retryScheduled = false;
    this.stopProbing();
    // Read once per cycle: a key file fixed after an auth failure is picked up by the next retry.
    this.apiKey = this.deps.apiKey();
    // Alerts first: they are few (one small request) and urgent, and a
    // readings backlog can take minutes to drain. Their failures are their
    // own (see AlertUploader) and never stop the readings.
    await this.alerts?.run();
    try {
      const live = queue.newestPending(config.batchMaxReadings);
      sent += await this.send(live, this.liveLimits);
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
        while (!this.stopping && !drained) {
          let flight: Promise<number>;
          if (encoder === null) {
            const backlog = queue.oldestPending(cursor, this.backlogLimits.readings);
            const last = backlog.at(-1);
            if (last === undefined) break;
            cursor = last.seq;
            dispatched += backlog.length;
            flight = this.send(backlog, this.backlogLimits);
            if (
              backlog.length >= this.backlogLimits.readings &&
              config.format === "batch" &&
              this.deps.encoder !== undefined
            ) {
              encoder = this.deps.encoder({
                device: this.batchDevice,
                batchMaxReadings: this.backlogLimits.readings,
                batchMaxBytes: this.backlogLimits.bytes,
                compress: config.compress,
              });
              encoder.from(cursor);
              this.deps.log.debug(
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
              for (const batch of read.batches) accepted += await this.sendEncoded(batch);
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
            const fresh = queue
              .newestPending(config.batchMaxReadings)
              .filter((item) => item.seq > cursor);
            dispatched += fresh.length;
            sent += await this.send(fresh, this.liveLimits);
            lastLiveCheck = performance.now();
          }
          await this.pace(dispatched, started);
        }
        while (flights.length > 0) await land();
      } finally {
        // A failed flight stops the cycle; the others must still settle before the next cycle reads the queue.
        await Promise.allSettled(flights);
        await encoder?.close();
      }
      this.succeeded(sent, started);
    } catch (error) {
      if (!(error instanceof Halt) && !this.stopping) {
        this.deps.log.error(`upload cycle failed: ${describeError(error)}`);
        this.scheduleRetry({ kind: "retry", reason: describeError(error), retryAfterMs: null });
      }
    }
  }

  /** Sends `items` (chunked to `limits`); returns how many readings the endpoint took. */
  private async send(items: QueuedReading[], limits: BatchLimits): Promise<number> {
    if (items.length === 0) return 0;
    const { config } = this.deps;
    if (config.format === "original") {
      let accepted = 0;
      for (const upload of originalDocuments(this.deps.device, items)) {
        const { outcome, status } = await this.post(
          JSON.stringify(upload.document),
          upload.document.id,
        );
        accepted += this.settle(outcome, status, upload.seqs, upload.document.id);
      }
      return accepted;
    }
    let accepted = 0;
    for (const chunk of chunkReadings(items, limits.readings, limits.bytes, this.envelopeBytes)) {
      accepted += await this.sendBatch(chunk);
    }
    return accepted;
  }

  private async sendBatch(chunk: QueuedReading[]): Promise<number> {
    const batch = batchJson(this.batchDevice, chunk);
    const seqs = chunk.map((item) => item.seq);
    const { outcome, status } = await this.post(batch.json, batch.batchId);
    if (outcome.kind !== "split") return this.settle(outcome, status, seqs, batch.batchId);
    return this.splitAndSend(chunk, status, batch.batchId);
  }

  /** A batch from the encoder thread; a 413 is split here, where the readings can be read again. */
  private async sendEncoded(batch: EncodedBatch): Promise<number> {
    const body = Buffer.from(batch.body.buffer, batch.body.byteOffset, batch.body.byteLength);
    const { outcome, status } = await this.postEncoded(
      { body, headers: batch.headers },
      batch.batchId,
    );
    if (outcome.kind !== "split") return this.settle(outcome, status, batch.seqs, batch.batchId);
    const wanted = new Set(batch.seqs);
    const first = batch.seqs[0] ?? 0;
    const chunk = this.deps.queue
      .oldestPending(first - 1, batch.seqs.length)
      .filter((item) => wanted.has(item.seq));
    return this.splitAndSend(chunk, status, batch.batchId);
  }

  /** The endpoint refused `chunk` as too large (413): its halves go separately, a single reading to quarantine. */
  private async splitAndSend(
    chunk: QueuedReading[],
    status: number,
    batchId: string,
  ): Promise<number> {
    const halves = splitInHalf(chunk);
    if (halves === null) {
      const alone = {
        kind: "quarantine",
        reason: "too large for the endpoint even alone (413)",
      } as const;
      return this.settle(
        alone,
        status,
        chunk.map((item) => item.seq),
        batchId,
      );
    }
    this.deps.log.info(`endpoint refused ${chunk.length} readings as too large (413): splitting`);
    return (await this.sendBatch(halves[0])) + (await this.sendBatch(halves[1]));
  }

  /** Applies an outcome to the queue; throws Halt when the cycle must stop (retry later). */
  private settle(outcome: UploadOutcome, status: number, seqs: number[], batchId: string): number {
    switch (outcome.kind) {
      case "accepted":
        this.deps.queue.markUploaded(seqs);
        this.status_.uploadedTotal += seqs.length;
        return seqs.length;
      case "quarantine":
        this.deps.queue.quarantine(seqs, { batchId, status, reason: outcome.reason });
        this.deps.log.error(
          `endpoint rejected batch ${batchId} (${seqs.length} readings, HTTP ${status}): ${outcome.reason}; ` +
            "kept in quarantine, later readings go on",
        );
        return 0;
      case "split":
        return 0;
      case "auth":
      case "retry":
        this.scheduleRetry(outcome);
        throw new Halt(outcome.reason);
    }
  }

  /** One request; the outcome per sync/policy.ts, and the HTTP status (0: no answer). */
  private async post(
    json: string,
    idempotencyKey: string,
    url: string = this.deps.config.endpoint,
  ): Promise<{ outcome: UploadOutcome; status: number }> {
    return this.postEncoded(await encodeBody(json, this.deps.config.compress), idempotencyKey, url);
  }

  private async postEncoded(
    { body, headers }: EncodedBody,
    idempotencyKey: string,
    url: string = this.deps.config.endpoint,
  ): Promise<{ outcome: UploadOutcome; status: number }> {
    const { config } = this.deps;
    const originalReadings = config.format === "original" && url === config.endpoint;
    const apiKey = this.apiKey;
    this.status_.requests++;
    this.status_.bytesSent += body.length;
    try {
      const response = await postBody(
        url,
        body,
        {
          ...headers,
          "idempotency-key": idempotencyKey,
          index: config.index,
          "user-agent": `sensord/${VERSION}`,
          ...(apiKey === null ? {} : { "x-api-key": apiKey }),
          // The original document carries neither device nor zone; these let a
          // receiver that knows them (sensord-ingest) place it. Others ignore them.
          ...(originalReadings
            ? { "x-device-id": this.deps.device.id, "x-timezone": this.deps.device.timezone }
            : {}),
        },
        {
          connectTimeoutMs: config.timeoutMs,
          headersTimeoutMs: config.timeoutMs,
          bodyTimeoutMs: config.timeoutMs,
          maxResponseBytes: MAX_RESPONSE_BYTES,
          signal: this.abort.signal,
          dispatcher: this.agent,
        },
      );
      return {
        outcome: classifyResponse(response.status, response.headers, response.body),
        status: response.status,
      };
    } catch (error) {
      return { outcome: classifyFailure(error), status: 0 };
    }
  }

  private scheduleRetry(outcome: UploadOutcome): void {
    // Two pipelined requests can fail in the same cycle: one attempt, one retry.
    if (this.stopping || this.retryScheduled) return;
    this.retryScheduled = true;
    this.status_.consecutiveFailures++;
    this.status_.failuresTotal++;
    const delay = nextDelayMs(outcome, this.status_.consecutiveFailures, this.deps.random);
    const reason = "reason" in outcome ? outcome.reason : outcome.kind;
    // One line when the trouble starts or changes kind (e.g. timeouts become auth failures).
    const worthALine =
      this.status_.consecutiveFailures === 1 || outcome.kind !== this.lastFailureKind;
    this.lastFailureKind = outcome.kind;
    this.status_.lastError = outcome.kind === "auth" ? `auth failed: ${reason}` : reason;
    this.status_.lastErrorAt = Date.now();
    this.status_.nextAttemptAt = Date.now() + delay;
    this.status_.state = outcome.kind === "auth" ? "auth_failed" : "backoff";
    if (worthALine) {
      this.deps.log.warn(
        `upload failed (${this.status_.lastError}); keeping everything, retrying in ${Math.round(delay / 1000)} s`,
      );
    }
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.trigger({ force: true }), delay);
    this.retryTimer.unref();
    // Only when the request never left: an endpoint that answers (429, 5xx)
    // or resets accepts connects, so a probe would turn its backoff into a tight loop.
    if (outcome.kind === "retry" && outcome.unreachable === true && outcome.retryAfterMs === null) {
      this.probing = true;
      this.scheduleProbe();
    }
  }

  private scheduleProbe(): void {
    const random = this.deps.random ?? Math.random;
    const delay = PROBE_MIN_MS + random() * (PROBE_MAX_MS - PROBE_MIN_MS);
    this.probeTimer = setTimeout(() => void this.probe(), delay);
    this.probeTimer.unref();
  }

  private async probe(): Promise<void> {
    this.probeTimer = null;
    if (!this.probing) return;
    // The failed cycle may still be settling its other requests; trigger() would only wait for it.
    if (this.cycleRunning === null) {
      const open = await tcpReachable(this.deps.config.endpoint, PROBE_TIMEOUT_MS);
      // A retry or a `sync now` may have started a cycle meanwhile: it stopped the probing.
      if (!this.probing) return;
      if (open && this.cycleRunning === null) {
        this.stopProbing();
        if (this.retryTimer) clearTimeout(this.retryTimer);
        this.retryTimer = null;
        void this.trigger({ force: true });
        return;
      }
    }
    this.scheduleProbe();
  }

  private stopProbing(): void {
    this.probing = false;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = null;
  }

  private succeeded(sent: number, started: number): void {
    if (this.status_.consecutiveFailures > 0) {
      this.deps.log.info(
        `uploads work again after ${this.status_.consecutiveFailures} failed attempt(s)`,
      );
    }
    this.status_.consecutiveFailures = 0;
    this.lastFailureKind = null;
    this.status_.nextAttemptAt = null;
    this.status_.lastError = null;
    this.status_.state = this.stopping ? "stopped" : "idle";
    if (sent > 0) {
      this.status_.lastSuccessAt = Date.now();
      this.status_.readingsPerSecond = sent / Math.max(0.001, (performance.now() - started) / 1000);
      // A backfill is worth a line; routine minute-by-minute uploads are not.
      const report = sent >= BACKFILL_REPORT_READINGS ? this.deps.log.info : this.deps.log.debug;
      report(`uploaded ${sent} readings (${Math.round(this.status_.readingsPerSecond)}/s)`);
    }
  }

  /** Sleeps as needed to keep the drain at or under max_rate readings/s. */
  private async pace(dispatched: number, started: number): Promise<void> {
    const earliest = started + (dispatched / this.deps.config.maxRate) * 1000;
    const wait = earliest - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
