import { performance } from "node:perf_hooks";

/** Why an operation did not get its answer in time. */
export type GateTimeoutKind =
  /** A transfer was issued and did not settle within its timeout. */
  | "running"
  /** The unit waited behind another unit on the same bus for its whole timeout, and issued nothing. */
  | "waiting"
  /** An earlier transfer overran its timeout and is still outstanding: refused at once. */
  | "blocked";

/** Thrown by BusGate; transfer.ts turns it into a DriverError naming the bus and the device. */
export class GateTimeout extends Error {
  constructor(
    readonly kind: GateTimeoutKind,
    readonly timeoutMs: number,
    /** For "blocked": how long the stuck transfer has been outstanding. */
    readonly blockedForMs = 0,
  ) {
    super(`I2C operation ${kind === "blocked" ? "refused: bus still blocked" : "timed out"}`);
    this.name = "GateTimeout";
  }
}

/** Runs one bus transfer under the unit's deadline. */
export type Step = <R>(transfer: () => Promise<R>) => Promise<R>;

type Raced<T> = { settled: true; value: T } | { settled: false };

/** Settles with the promise's value, or `{settled: false}` after `ms`; rejections pass through. */
async function within<T>(promise: Promise<T>, ms: number): Promise<Raced<T>> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<Raced<T>>((resolve) => {
    timer = setTimeout(() => resolve({ settled: false }), ms);
  });
  try {
    return await Promise.race([
      promise.then((value): Raced<T> => ({ settled: true, value })),
      expired,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Mutual exclusion and deadlines for one I2C bus.
 *
 * A unit of work (a write, a read, or write-pause-read) runs alone on the bus,
 * so two devices' command/reply pairs never interleave. Each transfer in it is
 * bounded by `timeoutMs`. Why not just race a timer: i2c-bus runs every
 * transfer as a blocking read(2)/write(2) on the libuv threadpool (4 threads
 * by default, shared with fs and dns). A timer stops *us* waiting, but the
 * blocked call keeps its thread until the kernel gives up, so more transfers on
 * a stuck bus would drain the pool and stall the daemon. The gate remembers a
 * transfer that overran and refuses every unit on that bus until it settles.
 */
export class BusGate {
  private tail: Promise<void> = Promise.resolve();
  private stuck: Promise<unknown> | null = null;
  private stuckSince = 0;

  /** Milliseconds an overrun transfer has been outstanding, or null when none is. */
  blockedForMs(): number | null {
    return this.stuck === null ? null : performance.now() - this.stuckSince;
  }

  async exclusive<T>(timeoutMs: number, work: (step: Step) => Promise<T>): Promise<T> {
    this.refuseIfBlocked(timeoutMs);
    const previous = this.tail;
    let release = () => {};
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.tail = previous.then(() => done);

    const turn = await within(previous, timeoutMs);
    if (!turn.settled) {
      // Give our slot back as soon as it comes, having issued nothing.
      void previous.then(release);
      throw new GateTimeout("waiting", timeoutMs);
    }
    let abandoned = false;
    const step: Step = async (transfer) => {
      if (abandoned) throw new GateTimeout("running", timeoutMs);
      const pending = transfer();
      const result = await within(pending, timeoutMs);
      if (result.settled) return result.value;
      abandoned = true;
      this.markStuck(pending);
      throw new GateTimeout("running", timeoutMs);
    };
    try {
      this.refuseIfBlocked(timeoutMs);
      return await work(step);
    } finally {
      release();
    }
  }

  private refuseIfBlocked(timeoutMs: number): void {
    const blockedFor = this.blockedForMs();
    if (blockedFor !== null) throw new GateTimeout("blocked", timeoutMs, Math.round(blockedFor));
  }

  private markStuck(pending: Promise<unknown>): void {
    this.stuck = pending;
    this.stuckSince = performance.now();
    const clear = () => {
      if (this.stuck === pending) this.stuck = null;
    };
    pending.then(clear, clear);
  }
}

/**
 * One gate per bus number per bus opener. Keyed by the opener (the daemon's
 * `context.openI2cBus`, one per process) so that two sensors on /dev/i2c-1, or a
 * sensor reopened after a failure, share the gate that knows a transfer is
 * still stuck; tests get fresh gates with each emulator's opener. A WeakMap, so
 * an opener that is dropped takes its gates with it.
 */
const GATES = new WeakMap<object, Map<number, BusGate>>();

export function gateFor(opener: object, busNumber: number): BusGate {
  let byBus = GATES.get(opener);
  if (byBus === undefined) {
    byBus = new Map();
    GATES.set(opener, byBus);
  }
  let gate = byBus.get(busNumber);
  if (gate === undefined) {
    gate = new BusGate();
    byBus.set(busNumber, gate);
  }
  return gate;
}
