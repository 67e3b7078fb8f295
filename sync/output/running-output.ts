import { describeError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import {
  freshOutputStatus,
  type Output,
  type OutputBacklog,
  type OutputStatus,
  type Parcel,
} from "./contract.js";
import { decide, type FailureOutcome, planRetry } from "./decide.js";
import type { ParcelLimits, Serializer } from "./serializers.js";

/**
 * While items wait and the endpoint cannot be reached (refused, no route,
 * connect timeout), a TCP connect probes it every 200-400 ms (uniform jitter,
 * so a fleet that lost the same endpoint does not reconnect in step), and the
 * cycle starts the moment one connects: the backlog moves within ~0.3 s of the
 * endpoint's return instead of at the next 1-10 s retry. A refused connect
 * costs the server nothing; the 1-10 s retries stay as they were, as a backstop.
 */
const PROBE_MIN_MS = 200;
const PROBE_MAX_MS = 400;

/** Cycles that deliver at least this many items are logged at info level. */
const BACKFILL_REPORT_ITEMS = 10_000;

/** Why a cycle stopped early: the retry already scheduled decides when to try again. */
export class Halt extends Error {}

/** The words an output's log lines use, so each reads as it always has. */
export interface OutputWording {
  /** What failed or works again: "upload", "alert upload". */
  activity: string;
  /** What the items are: "readings", "alert events". */
  items: string;
  /** What stays in the database on a failure: "everything", "every event". */
  kept: string;
  /** Who refused a batch: "endpoint", "alerts endpoint". */
  endpoint: string;
  /** What goes on past a quarantined batch: "readings", "alerts". */
  later: string;
}

/** What a drain (the body of one cycle) delivers through. */
export interface Delivery<Item> {
  /** True once stop() was called: a drain stops reading more. */
  readonly stopping: boolean;
  /**
   * Serializes `items` into parcels within `limits` and writes them in
   * order, applying each outcome; returns how many items were accepted.
   * Throws Halt when the cycle must stop (a retry is scheduled).
   */
  deliver(items: Item[], limits?: ParcelLimits): Promise<number>;
  /** A parcel serialized elsewhere (the encoder thread); a 413 cuts what `reread` returns. */
  deliverParcel(parcel: Parcel, reread: () => Item[], limits: ParcelLimits): Promise<number>;
}

/** One cycle: reads what waits and hands it to the delivery; returns how many items were accepted. */
export type Drain<Item> = (delivery: Delivery<Item>) => Promise<number>;

/** Reads `pending(limit)` and delivers it until nothing is left: one request at a time, oldest first. */
export function oldestFirst<Item>(pending: (limit: number) => Item[], limit: number): Drain<Item> {
  return async (delivery) => {
    let sent = 0;
    for (;;) {
      const items = pending(limit);
      if (items.length === 0 || delivery.stopping) return sent;
      sent += await delivery.deliver(items);
    }
  };
}

export interface RunningOutputOptions<Item> {
  output: Output;
  backlog: OutputBacklog;
  serialize: Serializer<Item>;
  /** The limits `deliver` uses when the drain passes none. */
  limits: ParcelLimits;
  drain: Drain<Item>;
  wording: OutputWording;
  log: Logger;
  /**
   * Whether the destination accepts connections again, asked while it is
   * unreachable (see PROBE_MIN_MS); without it only the backoff retries.
   */
  reachable?: () => Promise<boolean>;
  random?: () => number;
}

/**
 * Runs one Output: cycles on demand (the caller's schedule, `sync now`),
 * each outcome applied to the backlog (ack, quarantine, split on 413), and
 * on failure a backoff with jitter or the auth pause, with the probe that
 * ends an outage's backoff early. Nothing is ever dropped.
 */
export class RunningOutput<Item> implements Delivery<Item> {
  private retryTimer: NodeJS.Timeout | null = null;
  private probeTimer: NodeJS.Timeout | null = null;
  /** Set while the last attempt found the endpoint unreachable: see PROBE_MIN_MS. */
  private probing = false;
  /** Set when this cycle has scheduled its retry. */
  private retryScheduled = false;
  private lastFailureKind: FailureOutcome["kind"] | null = null;
  private cycleRunning: Promise<void> | null = null;
  private stopping_ = false;
  private readonly status_: OutputStatus;

  constructor(private readonly options: RunningOutputOptions<Item>) {
    this.status_ = freshOutputStatus(options.output.name);
  }

  get name(): string {
    return this.options.output.name;
  }

  get stopping(): boolean {
    return this.stopping_;
  }

  status(): OutputStatus {
    return { ...this.status_ };
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

  async stop(): Promise<void> {
    this.stopping_ = true;
    this.status_.state = "stopped";
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.stopProbing();
    const closed = this.options.output.close();
    await this.cycleRunning;
    await closed;
  }

  async deliver(items: Item[], limits: ParcelLimits = this.options.limits): Promise<number> {
    let accepted = 0;
    for (const { parcel, items: cut } of this.options.serialize(items, limits)) {
      accepted += await this.write(parcel, () => cut, limits);
    }
    return accepted;
  }

  deliverParcel(parcel: Parcel, reread: () => Item[], limits: ParcelLimits): Promise<number> {
    return this.write(parcel, reread, limits);
  }

  /** One parcel and what its outcome asks for; `items` gives what a 413 cuts (null: it cannot be cut). */
  private async write(
    parcel: Parcel,
    items: () => Item[] | null,
    limits: ParcelLimits,
  ): Promise<number> {
    const { output, backlog, log, wording } = this.options;
    const { outcome, status, bytesSent } = await output.write(parcel);
    this.status_.requests++;
    this.status_.bytesSent += bytesSent;
    const decision = decide(outcome, outcome.kind === "split" ? items() : null);
    switch (decision.action) {
      case "ack":
        backlog.ack(parcel.seqs);
        this.status_.deliveredTotal += parcel.seqs.length;
        return parcel.seqs.length;
      case "quarantine":
        backlog.quarantine(parcel.seqs, { batchId: parcel.id, status, reason: decision.reason });
        log.error(
          `${wording.endpoint} rejected batch ${parcel.id} (${parcel.seqs.length} ${wording.items}, HTTP ${status}): ${decision.reason}; ` +
            `kept in quarantine, later ${wording.later} go on`,
        );
        return 0;
      case "split": {
        const [head, tail] = decision.halves;
        log.info(
          `${wording.endpoint} refused ${parcel.seqs.length} ${wording.items} as too large (413): splitting`,
        );
        return (await this.deliver(head, limits)) + (await this.deliver(tail, limits));
      }
      case "halt":
        this.scheduleRetry(decision.failure);
        throw new Halt(decision.failure.reason);
    }
  }

  private async cycle(): Promise<void> {
    if (this.stopping_) return;
    const started = performance.now();
    this.status_.state = "uploading";
    this.retryScheduled = false;
    this.stopProbing();
    try {
      this.options.output.startCycle();
      this.succeeded(await this.options.drain(this), started);
    } catch (error) {
      if (!(error instanceof Halt) && !this.stopping_) {
        this.options.log.error(
          `${this.options.wording.activity} cycle failed: ${describeError(error)}`,
        );
        this.scheduleRetry({ kind: "retry", reason: describeError(error), retryAfterMs: null });
      }
    }
  }

  private scheduleRetry(failure: FailureOutcome): void {
    // Two pipelined requests can fail in the same cycle: one attempt, one retry.
    if (this.stopping_ || this.retryScheduled) return;
    this.retryScheduled = true;
    this.status_.consecutiveFailures++;
    this.status_.failuresTotal++;
    const plan = planRetry(
      failure,
      this.status_.consecutiveFailures,
      this.lastFailureKind,
      this.options.random,
    );
    this.lastFailureKind = failure.kind;
    this.status_.lastError = plan.lastError;
    this.status_.lastErrorAt = Date.now();
    this.status_.nextAttemptAt = Date.now() + plan.delayMs;
    this.status_.state = plan.state;
    if (plan.worthALine) {
      const { activity, kept } = this.options.wording;
      this.options.log.warn(
        `${activity} failed (${plan.lastError}); keeping ${kept}, retrying in ${Math.round(plan.delayMs / 1000)} s`,
      );
    }
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.trigger({ force: true }), plan.delayMs);
    this.retryTimer.unref();
    if (plan.probe && this.options.reachable !== undefined) {
      this.probing = true;
      this.scheduleProbe();
    }
  }

  private scheduleProbe(): void {
    const random = this.options.random ?? Math.random;
    const delay = PROBE_MIN_MS + random() * (PROBE_MAX_MS - PROBE_MIN_MS);
    this.probeTimer = setTimeout(() => void this.probe(), delay);
    this.probeTimer.unref();
  }

  private async probe(): Promise<void> {
    this.probeTimer = null;
    const reachable = this.options.reachable;
    if (!this.probing || reachable === undefined) return;
    // The failed cycle may still be settling its other requests; trigger() would only wait for it.
    if (this.cycleRunning === null) {
      const open = await reachable();
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
    const { log, wording } = this.options;
    if (this.status_.consecutiveFailures > 0) {
      log.info(
        `${wording.activity}s work again after ${this.status_.consecutiveFailures} failed attempt(s)`,
      );
    }
    this.status_.consecutiveFailures = 0;
    this.lastFailureKind = null;
    this.status_.nextAttemptAt = null;
    this.status_.lastError = null;
    this.status_.state = this.stopping_ ? "stopped" : "idle";
    if (sent > 0) {
      this.status_.lastSuccessAt = Date.now();
      this.status_.itemsPerSecond = sent / Math.max(0.001, (performance.now() - started) / 1000);
      // A backfill is worth a line; routine minute-by-minute uploads are not.
      const report = sent >= BACKFILL_REPORT_ITEMS ? log.info : log.debug;
      report(`uploaded ${sent} ${wording.items} (${Math.round(this.status_.itemsPerSecond)}/s)`);
    }
  }
}
