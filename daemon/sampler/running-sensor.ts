import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { type BackoffPolicy, backoffDelay, DRIVER_BACKOFF } from "../../core/backoff.js";
import { DriverError, describeError, ERROR_CODES } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import type { SensorConfig } from "../../schemas/config-types.js";
import type { Sample, SensorDriver } from "../drivers/driver.js";
import { nextTick } from "./schedule.js";

/** `finished`: a replay file ran out (loop = false); the daemon keeps running. */
export type SensorState =
  | "starting"
  | "warming"
  | "ok"
  | "degraded"
  | "down"
  | "finished"
  | "stopped";

export interface SensorStatus {
  id: string;
  driver: string;
  state: SensorState;
  /** Milliseconds of warm-up left (0 once warm). */
  warmupLeftMs: number;
  samples: number;
  /** Ticks skipped because a read overran its interval. */
  overruns: number;
  /** Failed reads and opens, by error code (e.g. SENSORD_FRAME_INVALID). */
  errors: Record<string, number>;
  lastError: string | null;
  /** performance.now() of the last completed loop iteration, for the watchdog. */
  lastTickAt: number;
  /**
   * performance.now() when the driver call in progress (open, read, close)
   * began; null while the loop sleeps. A sensor that is down sleeps in backoff,
   * a hung read stays here: the watchdog tells them apart by this.
   */
  driverCallSince: number | null;
}

export interface RunningSensorDeps {
  sensor: SensorConfig;
  driver: SensorDriver;
  log: Logger;
  /** Called once per successful read; `warmingUp` is true while within `warmup` of the driver opening. */
  onSample: (sample: Sample, tsMs: number, warmingUp: boolean) => void;
  /**
   * Called once when a finite source (a replay file, loop = false) runs out, so
   * what it produced can be committed at once instead of up to a flush interval later.
   */
  onFinished?: () => void;
  backoff?: BackoffPolicy;
}

/** Consecutive failed reads before `degraded` becomes `down`. */
const FAILURES_UNTIL_DOWN = 3;
/** At full speed (interval 0), yield to the event loop this often so timers (flushes) still run. */
const FULL_SPEED_YIELD_EVERY = 256;

/**
 * A reply arrived but was not a valid frame: the link works, so the sampler
 * reads again one interval later without reopening (until the sensor is down).
 * Any other failure may mean the link is gone (an unplugged adapter, a bus held
 * low), so the sampler closes, backs off and reopens.
 */
function isBadFrame(error: unknown): boolean {
  return error instanceof DriverError && error.code === ERROR_CODES.driver.frameInvalid;
}

/**
 * Owns one sensor's loop: schedule against the monotonic clock, warm-up, error
 * counting, backoff and reopen, and logging once per state change, so drivers
 * only know how to read.
 */
export class RunningSensor {
  private state: SensorState = "starting";
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly abort = new AbortController();
  private warmupEndsAt = 0;
  private consecutiveFailures = 0;
  private readonly stats = {
    samples: 0,
    overruns: 0,
    errors: {} as Record<string, number>,
    lastError: null as string | null,
    lastTickAt: performance.now(),
    driverCallSince: null as number | null,
  };

  constructor(private readonly deps: RunningSensorDeps) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run().catch((error: unknown) => {
      this.deps.log.error(`sampler stopped unexpectedly: ${describeError(error)}`);
      this.setState("down");
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    // Closing first ends a read that is waiting on the device (a silent serial
    // module) instead of waiting out its timeout.
    await this.closeDriver();
    await this.loop;
    this.state = "stopped";
  }

  status(): SensorStatus {
    return {
      id: this.deps.sensor.id,
      driver: this.deps.sensor.driver,
      state: this.state,
      warmupLeftMs: Math.max(0, Math.round(this.warmupEndsAt - performance.now())),
      samples: this.stats.samples,
      overruns: this.stats.overruns,
      errors: { ...this.stats.errors },
      lastError: this.stats.lastError,
      lastTickAt: this.stats.lastTickAt,
      driverCallSince: this.stats.driverCallSince,
    };
  }

  private async run(): Promise<void> {
    const { sensor } = this.deps;
    if (!(await this.openWithRetry())) return;
    this.warmupEndsAt = performance.now() + sensor.warmupMs;
    const startedAt = performance.now();
    let tick = 0;
    while (this.running) {
      const sample = await this.readOnce();
      this.stats.lastTickAt = performance.now();
      if (sample === null) {
        this.setState("finished");
        this.deps.log.info("source exhausted; no more readings from this sensor");
        this.deps.onFinished?.();
        return;
      }
      if (sample === "retry") continue;
      if (sensor.intervalMs === 0) {
        if (this.stats.samples % FULL_SPEED_YIELD_EVERY === 0) await new Promise(setImmediate);
        continue;
      }
      const now = performance.now();
      const next = nextTick(startedAt, sensor.intervalMs, tick, now);
      tick = next.tick;
      if (next.skipped > 0) {
        this.stats.overruns += next.skipped;
        this.deps.log.debug(`read overran its interval; skipped ${next.skipped} tick(s)`);
      }
      if (!(await this.sleep(next.dueMs - now))) return;
    }
  }

  /** A sample, null at end of source, or "retry" after a failure was handled. */
  private async readOnce(): Promise<Sample | null | "retry"> {
    const tsMs = Date.now();
    const warmingUp = performance.now() < this.warmupEndsAt;
    let sample: Sample | null;
    // Inline rather than timed(): this is the hot path when replaying at full speed.
    this.stats.driverCallSince = performance.now();
    try {
      sample = await this.deps.driver.read();
    } catch (error) {
      this.stats.driverCallSince = null;
      // A read cut short by stop() closing the driver is not a fault.
      if (!this.running) return "retry";
      return this.handleFailure(error);
    }
    this.stats.driverCallSince = null;
    if (sample === null) return null;
    this.stats.samples++;
    this.consecutiveFailures = 0;
    this.setState(warmingUp ? "warming" : "ok");
    this.deps.onSample(sample, sample.ts ?? tsMs, warmingUp);
    return sample;
  }

  private async handleFailure(error: unknown): Promise<"retry"> {
    const code = error instanceof DriverError ? error.code : ERROR_CODES.driver.failed;
    this.stats.errors[code] = (this.stats.errors[code] ?? 0) + 1;
    this.stats.lastError = describeError(error);
    this.consecutiveFailures++;
    const down = this.consecutiveFailures >= FAILURES_UNTIL_DOWN;
    this.setState(down ? "down" : "degraded", this.stats.lastError);
    if (!isBadFrame(error) || down) {
      const delay = backoffDelay(this.deps.backoff ?? DRIVER_BACKOFF, this.consecutiveFailures);
      await this.closeDriver();
      if (!(await this.sleep(delay))) return "retry";
      await this.openWithRetry();
    } else if (this.deps.sensor.intervalMs > 0) {
      await this.sleep(this.deps.sensor.intervalMs);
    }
    return "retry";
  }

  private async openWithRetry(): Promise<boolean> {
    for (let attempt = 1; this.running; attempt++) {
      try {
        await this.timed(() => this.deps.driver.open());
        return true;
      } catch (error) {
        const code = error instanceof DriverError ? error.code : ERROR_CODES.driver.openFailed;
        this.stats.errors[code] = (this.stats.errors[code] ?? 0) + 1;
        this.stats.lastError = describeError(error);
        this.setState("down", this.stats.lastError);
        await this.closeDriver();
        if (!(await this.sleep(backoffDelay(this.deps.backoff ?? DRIVER_BACKOFF, attempt))))
          return false;
      }
    }
    return false;
  }

  private async closeDriver(): Promise<void> {
    try {
      await this.timed(() => this.deps.driver.close());
    } catch (error) {
      this.deps.log.debug(`close failed: ${describeError(error)}`);
    }
  }

  private async timed<T>(call: () => Promise<T>): Promise<T> {
    this.stats.driverCallSince = performance.now();
    try {
      return await call();
    } finally {
      this.stats.driverCallSince = null;
    }
  }

  /** False when the sensor was stopped while sleeping. */
  private async sleep(ms: number): Promise<boolean> {
    if (ms > 0) {
      try {
        await sleep(ms, undefined, { signal: this.abort.signal });
      } catch {
        return false;
      }
    }
    return this.running;
  }

  /** Logs only transitions, so a sensor unplugged for a day writes two lines, not 86,400. */
  private setState(next: SensorState, reason?: string): void {
    if (next === this.state) return;
    const previous = this.state;
    this.state = next;
    const suffix = reason ? `: ${reason}` : "";
    if (next === "down") this.deps.log.error(`state ${previous} -> down${suffix}`);
    else if (next === "degraded") this.deps.log.warn(`state ${previous} -> degraded${suffix}`);
    else if (previous === "degraded" || previous === "down")
      this.deps.log.info(`state ${previous} -> ${next}: recovered`);
    else this.deps.log.debug(`state ${previous} -> ${next}`);
  }
}
