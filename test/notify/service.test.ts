import { performance } from "node:perf_hooks";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../core/logger.js";
import type { DaemonStatus } from "../../daemon/daemon.js";
import type { Notifier } from "../../daemon/notify/notifier.js";
import { ServiceNotifications } from "../../daemon/notify/service.js";
import { waitUntil } from "../support/processes.js";

/** Records what the service tells systemd, in order. */
class RecordingNotifier implements Notifier {
  readonly enabled = true;
  readonly sent: string[] = [];
  ready(): void {
    this.sent.push("READY=1");
  }
  status(text: string): void {
    this.sent.push(`STATUS=${text}`);
  }
  watchdog(): void {
    this.sent.push("WATCHDOG=1");
  }
  stopping(): void {
    this.sent.push("STOPPING=1");
  }
}

function daemonStatus(driverCallSince: number | null): DaemonStatus {
  return {
    sensors: [
      {
        id: "gas0",
        driver: "sim",
        state: "ok",
        warmupLeftMs: 0,
        samples: 10,
        overruns: 0,
        errors: {},
        lastError: null,
        lastTickAt: 0,
        driverCallSince,
      },
    ],
    recorder: {
      pending: 0,
      committed: 40,
      droppedInMemory: 0,
      droppedByRetention: 0,
      lastFlushError: null,
      lastCommitAt: null,
      rejectedValues: 0,
    },
    activeAlarms: [],
    sync: null,
  } as unknown as DaemonStatus;
}

describe("ServiceNotifications", () => {
  let service: ServiceNotifications | null = null;
  const lines: string[] = [];
  const log = createLogger({ level: "info", journald: true, write: (line) => lines.push(line) });
  afterEach(() => {
    service?.stop();
    service = null;
    lines.length = 0;
  });

  function start(status: () => DaemonStatus): RecordingNotifier {
    const notifier = new RecordingNotifier();
    service = new ServiceNotifications({
      notifier,
      daemon: {
        status,
        sensorConfigs: () => [
          {
            id: "gas0",
            driver: "sim",
            intervalMs: 100,
            warmupMs: 0,
            channels: {},
            options: {},
          },
        ],
      },
      watchdogPeriodMs: 10,
      log,
    });
    service.start();
    return notifier;
  }

  it("announces READY with a status, then pings while healthy, and says STOPPING last", async () => {
    const notifier = start(() => daemonStatus(null));
    expect(notifier.sent.slice(0, 3)).toEqual([
      "STATUS=1 sensor ok, 40 readings stored, 0 alarms",
      "READY=1",
      "WATCHDOG=1",
    ]);
    await waitUntil(() => notifier.sent.filter((m) => m === "WATCHDOG=1").length >= 4, 2000);
    service?.stop();
    service = null;
    expect(notifier.sent.slice(-2)).toEqual([
      "STATUS=stopping: committing pending readings",
      "STOPPING=1",
    ]);
    expect(lines).toEqual([]);
  });

  it("withholds pings while a driver call is stuck, logging once, and resumes after it", async () => {
    let since: number | null = performance.now() - 60_000;
    const notifier = start(() => daemonStatus(since));
    await waitUntil(() => notifier.sent.length >= 8, 2000);
    const whileStuck = notifier.sent.slice(3);
    expect(whileStuck.filter((m) => m === "WATCHDOG=1")).toEqual([]);
    expect(whileStuck[0]).toMatch(
      /^STATUS=UNHEALTHY: sensor gas0 stuck in a driver call for 60\.\d s \(limit 5\.3 s\) \| 1 sensor ok, /,
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^<3>withholding watchdog pings, systemd will restart sensord: sensor gas0 stuck/,
    );

    since = null;
    const mark = notifier.sent.length;
    await waitUntil(() => notifier.sent.slice(mark).includes("WATCHDOG=1"), 2000);
    expect(lines[1]).toBe("<6>healthy again: watchdog pings resumed\n");
  });

  it("survives a status that throws, and does not ping", async () => {
    let calls = 0;
    const notifier = start(() => {
      calls++;
      if (calls > 1) throw new Error("SQLITE_CORRUPT: database disk image is malformed");
      return daemonStatus(null);
    });
    await waitUntil(() => calls >= 5, 2000);
    expect(notifier.sent.slice(3).filter((m) => m === "WATCHDOG=1")).toEqual([]);
    expect(notifier.sent.at(-1)).toBe(
      "STATUS=UNHEALTHY: cannot read status: SQLITE_CORRUPT: database disk image is malformed",
    );
    expect(lines).toHaveLength(1);
  });
});
