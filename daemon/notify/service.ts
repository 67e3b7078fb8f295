import { performance } from "node:perf_hooks";
import { describeError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import type { Daemon } from "../daemon.js";
import { type HealthVerdict, healthVerdict } from "./health.js";
import { createNotifier, type Notifier } from "./notifier.js";
import { statusLine } from "./status-line.js";
import { watchdogPeriodMs } from "./watchdog.js";

/** STATUS= refresh when there is no watchdog to pace it. */
export const STATUS_PERIOD_MS = 10_000;

export interface ServiceNotificationsDeps {
  notifier: Notifier;
  daemon: Pick<Daemon, "status" | "sensorConfigs">;
  /** From watchdogPeriodMs(): null when the unit has no WatchdogSec=. */
  watchdogPeriodMs: number | null;
  log: Logger;
}

/**
 * The daemon's side of Type=notify: READY=1 once started, then on every tick
 * a STATUS= line and, only while healthVerdict() says so, WATCHDOG=1; and
 * STOPPING=1 at shutdown. A hung sampler or a database refusing writes stops
 * the pings, and systemd restarts sensord after WatchdogSec.
 */
export class ServiceNotifications {
  private timer: NodeJS.Timeout | null = null;
  private wasHealthy = true;

  constructor(private readonly deps: ServiceNotificationsDeps) {}

  /** Call once the database is open and the sensors are started. */
  start(): void {
    const { notifier, watchdogPeriodMs } = this.deps;
    notifier.status(statusLine(this.deps.daemon.status(), { healthy: true }));
    notifier.ready();
    if (watchdogPeriodMs !== null) notifier.watchdog();
    this.timer = setInterval(() => this.tick(), watchdogPeriodMs ?? STATUS_PERIOD_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.deps.notifier.status("stopping: committing pending readings");
    this.deps.notifier.stopping();
  }

  private tick(): void {
    let status: ReturnType<ServiceNotificationsDeps["daemon"]["status"]>;
    try {
      status = this.deps.daemon.status();
    } catch (error) {
      // A status that cannot be read (the database gone bad under the sync
      // queue's counts) is no reason to crash, and no reason to ping either.
      const verdict: HealthVerdict = {
        healthy: false,
        reasons: [`cannot read status: ${describeError(error)}`],
      };
      this.logTransition(verdict);
      this.deps.notifier.status(`UNHEALTHY: ${verdict.reasons[0]}`);
      return;
    }
    const verdict = healthVerdict({
      nowMs: performance.now(),
      samplers: status.sensors,
      configs: this.deps.daemon.sensorConfigs(),
      recorder: status.recorder,
    });
    this.logTransition(verdict);
    this.deps.notifier.status(statusLine(status, verdict));
    if (verdict.healthy && this.deps.watchdogPeriodMs !== null) this.deps.notifier.watchdog();
  }

  private logTransition(verdict: HealthVerdict): void {
    if (verdict.healthy === this.wasHealthy) return;
    this.wasHealthy = verdict.healthy;
    if (verdict.healthy) this.deps.log.info("healthy again: watchdog pings resumed");
    else if (this.deps.watchdogPeriodMs !== null)
      this.deps.log.error(
        `withholding watchdog pings, systemd will restart sensord: ${verdict.reasons.join("; ")}`,
      );
    else this.deps.log.error(`unhealthy: ${verdict.reasons.join("; ")}`);
  }
}

/**
 * main.ts's entry point: talks to systemd when it started us with
 * NOTIFY_SOCKET (Type=notify), and does nothing otherwise.
 */
export function startServiceNotifications(
  daemon: ServiceNotificationsDeps["daemon"],
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): { stop(): void } {
  const notifier = createNotifier({ env, log: log.child("systemd"), pid: process.pid });
  if (!notifier.enabled) return { stop: () => {} };
  const service = new ServiceNotifications({
    notifier,
    daemon,
    watchdogPeriodMs: watchdogPeriodMs(env, process.pid),
    log: log.child("systemd"),
  });
  service.start();
  return service;
}
