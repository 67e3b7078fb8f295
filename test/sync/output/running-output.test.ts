import { describe, expect, it } from "vitest";
import { createLogger } from "../../../core/logger.js";
import type { Output, Parcel, WriteOutcome } from "../../../sync/output/contract.js";
import { oldestFirst, RunningOutput } from "../../../sync/output/running-output.js";
import type { Serializer } from "../../../sync/output/serializers.js";

/** Items are their seqs; a parcel's body lists them. */
const serialize: Serializer<number> = (items, limits) => {
  const parcels = [];
  for (let at = 0; at < items.length; at += limits.items) {
    const chunk = items.slice(at, at + limits.items);
    parcels.push({
      parcel: { id: `b${chunk.join(".")}`, seqs: chunk, body: chunk.join(",") },
      items: chunk,
    });
  }
  return parcels;
};

/** An output that answers each write as `answer` says, and remembers what it was sent. */
class ScriptedOutput implements Output {
  readonly name = "scripted";
  readonly written: string[] = [];
  cycles = 0;
  closed = false;
  constructor(public answer: (parcel: Parcel) => WriteOutcome) {}
  startCycle(): void {
    this.cycles++;
  }
  async write(parcel: Parcel) {
    this.written.push(parcel.id);
    const outcome = this.answer(parcel);
    const status = outcome.kind === "accepted" ? 200 : outcome.kind === "split" ? 413 : 422;
    return { outcome, status, bytesSent: String(parcel.body).length };
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A backlog of seqs 1..count in memory; acked and quarantined seqs leave it. */
function setup(count: number, answer: (parcel: Parcel) => WriteOutcome) {
  const pending = new Set(Array.from({ length: count }, (_, index) => index + 1));
  const acked: number[] = [];
  const quarantined: { seqs: readonly number[]; status: number; reason: string }[] = [];
  const lines: string[] = [];
  const output = new ScriptedOutput(answer);
  const running = new RunningOutput<number>({
    output,
    backlog: {
      ack: (seqs) => {
        for (const seq of seqs) pending.delete(seq);
        acked.push(...seqs);
      },
      quarantine: (seqs, info) => {
        for (const seq of seqs) pending.delete(seq);
        quarantined.push({ seqs, status: info.status, reason: info.reason });
      },
    },
    serialize,
    limits: { items: 4, bytes: 1 << 20 },
    drain: oldestFirst((limit) => [...pending].slice(0, limit), 4),
    wording: {
      activity: "thing upload",
      items: "things",
      kept: "every thing",
      endpoint: "thing endpoint",
      later: "things",
    },
    log: createLogger({ level: "debug", journald: true, write: (line) => lines.push(line) }),
    random: () => 0,
  });
  return { running, output, acked, quarantined, lines, pending };
}

describe("RunningOutput", () => {
  it("cuts a 413 in halves until it fits, and quarantines the one item that never does", async () => {
    const { running, output, acked, quarantined } = setup(4, (parcel) =>
      parcel.seqs.includes(3) || parcel.seqs.length > 2 ? { kind: "split" } : { kind: "accepted" },
    );
    await running.trigger();
    expect(output.written).toEqual(["b1.2.3.4", "b1.2", "b3.4", "b3", "b4"]);
    expect(acked).toEqual([1, 2, 4]);
    expect(quarantined).toEqual([
      { seqs: [3], status: 413, reason: "too large for the endpoint even alone (413)" },
    ]);
    expect(running.status()).toMatchObject({
      name: "scripted",
      state: "idle",
      deliveredTotal: 3,
      requests: 5,
      consecutiveFailures: 0,
    });
  });

  it("quarantines an invalid parcel and goes on with the next", async () => {
    const { running, acked, quarantined, lines } = setup(6, (parcel) =>
      parcel.seqs.includes(1)
        ? { kind: "quarantine", reason: "HTTP 422: bad" }
        : { kind: "accepted" },
    );
    await running.trigger();
    expect(quarantined).toEqual([{ seqs: [1, 2, 3, 4], status: 422, reason: "HTTP 422: bad" }]);
    expect(acked).toEqual([5, 6]);
    expect(
      lines.filter((line) => line.includes("thing endpoint rejected batch b1.2.3.4")),
    ).toHaveLength(1);
  });

  it("stops the cycle on a retry, waits out the backoff unless forced, and says when it works again", async () => {
    let down = true;
    const { running, output, acked, lines, pending } = setup(8, () =>
      down ? { kind: "retry", reason: "HTTP 503", retryAfterMs: null } : { kind: "accepted" },
    );
    await running.trigger();
    expect(output.written).toEqual(["b1.2.3.4"]);
    const failed = running.status();
    expect(failed).toMatchObject({
      state: "backoff",
      lastError: "HTTP 503",
      consecutiveFailures: 1,
      failuresTotal: 1,
    });
    expect(failed.nextAttemptAt).toBeGreaterThan(Date.now());
    expect(pending.size).toBe(8);
    // Inside the backoff a scheduled trigger does nothing.
    await running.trigger();
    expect(output.written).toHaveLength(1);
    down = false;
    await running.trigger({ force: true });
    expect(acked).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(running.status()).toMatchObject({
      state: "idle",
      lastError: null,
      nextAttemptAt: null,
      consecutiveFailures: 0,
      deliveredTotal: 8,
    });
    expect(
      lines.filter((line) => line.includes("thing upload failed (HTTP 503); keeping every thing")),
    ).toHaveLength(1);
    expect(
      lines.some((line) => line.includes("thing uploads work again after 1 failed attempt(s)")),
    ).toBe(true);
    expect(output.cycles).toBe(2);
    await running.stop();
  });

  it("pauses on refused credentials", async () => {
    const { running, pending } = setup(2, () => ({ kind: "auth", reason: "HTTP 401" }));
    await running.trigger();
    expect(running.status()).toMatchObject({
      state: "auth_failed",
      lastError: "auth failed: HTTP 401",
    });
    expect(pending.size).toBe(2);
    await running.stop();
  });

  it("stops: closes the output, reports stopped and runs no more cycles", async () => {
    const { running, output } = setup(2, () => ({ kind: "accepted" }));
    await running.stop();
    expect(output.closed).toBe(true);
    await running.trigger({ force: true });
    expect(output.written).toEqual([]);
    expect(running.status().state).toBe("stopped");
  });
});
