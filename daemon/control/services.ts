import { existsSync } from "node:fs";
import { dirname } from "node:path";
import type { Registry } from "prom-client";
import { describeError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import type { SensordConfig, ThresholdRule } from "../../schemas/config-types.js";
import { formatListen } from "../config/http.js";
import { createDashboard } from "../http/dashboard.js";
import { healthProblems } from "../http/health.js";
import { type HttpServer, startHttpServer } from "../http/server.js";
import type { ThresholdOverrideTable } from "../store/overrides.js";
import type { ControlDeps } from "./routes/deps.js";
import { statusRoutes } from "./routes/status.js";
import { syncRoutes } from "./routes/sync.js";
import { thresholdRoutes } from "./routes/thresholds.js";
import { applyOverrides, type FleetLayer } from "./rules.js";
import { type ControlServer, startControlServer } from "./server.js";
import { claimSocketPath } from "./socket-file.js";
import type { StatusReport } from "./status.js";

/**
 * Run before the daemon opens its database: a second sensord on the same
 * socket (most likely the same database too) must not start at all.
 * Throws ControlSocketError.
 */
export async function claimControlSocket(config: SensordConfig): Promise<void> {
  if (config.control.socket !== null) await claimSocketPath(config.control.socket);
}

/** The config's rules under the fleet's set and the stored overrides; logs the overrides in force. */
export function rulesInForce(
  config: SensordConfig,
  table: ThresholdOverrideTable,
  log: Logger,
  fleet: FleetLayer | null,
): ThresholdRule[] {
  const effective = applyOverrides(config.thresholds, config.thresholdPreset, table.list(), fleet);
  const overrides = effective.rules.filter((entry) => entry.origin === "override");
  if (overrides.length > 0 || effective.removed.length > 0) {
    const set = overrides.map((entry) => entry.key);
    const removed = effective.removed.flatMap((slot) => slot.removes);
    log.info(
      `threshold overrides from sensorctl in force: ${[...set, ...removed.map((key) => `-${key}`)].join(", ")}`,
    );
  }
  return effective.rules.map((entry) => entry.rule);
}

export interface ServiceSources {
  control: ControlDeps;
  readingsCommitted(): number;
  alerts(): { raise: number; clear: number };
  lastFlushError(): string | null;
}

/**
 * The control socket and the metrics endpoint. Neither is needed to sample,
 * alarm or store, so a failure to start one is logged and sensord runs on.
 */
export class DaemonServices {
  private control: ControlServer | null = null;
  private http: HttpServer | null = null;
  private httpError: string | null = null;

  constructor(
    private readonly config: SensordConfig,
    private readonly log: Logger,
  ) {}

  httpState(): StatusReport["http"] {
    const listen = this.config.http.listen;
    if (listen === null) return { listen: null, error: null };
    const port = this.http?.port ?? listen.port;
    return {
      listen: formatListen({ host: listen.host, port }),
      error: this.httpError,
      tokenRequired: this.config.http.tokenFile !== null,
    };
  }

  async start(sources: ServiceSources): Promise<void> {
    await Promise.all([this.startControl(sources.control), this.startHttp(sources)]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.control?.close(), this.http?.close()]);
    this.control = null;
    this.http = null;
  }

  private async startControl(deps: ControlDeps): Promise<void> {
    const socket = this.config.control.socket;
    if (socket === null) return;
    const log = this.log.child("control");
    if (!existsSync(dirname(socket))) {
      log.warn(
        `control socket off: ${dirname(socket)} does not exist (systemd's RuntimeDirectory=sensord creates it); ` +
          "sensorctl status and threshold set cannot reach this sensord until [control] socket names a writable folder",
      );
      return;
    }
    try {
      this.control = await startControlServer({
        socket,
        routes: [...statusRoutes(deps), ...thresholdRoutes(deps), ...syncRoutes(deps)],
        log,
      });
      log.info(`control socket ${socket}`);
    } catch (error) {
      log.error(`control socket ${socket} unavailable: ${describeError(error)}`);
    }
  }

  private async startHttp(sources: ServiceSources): Promise<void> {
    const listen = this.config.http.listen;
    if (listen === null) return;
    const log = this.log.child("http");
    // sensord's own metrics are read from the daemon at scrape time, so a registry
    // made at the first scrape reports the same figures (see http/server.ts); only
    // prom-client's GC and event-loop samples start then instead of at start-up.
    let registry: Promise<Registry> | null = null;
    const metrics = (): Promise<Registry> => {
      registry ??= import("../http/metrics.js").then(({ createMetrics }) =>
        createMetrics({
          report: () => sources.control.status(),
          readingsCommitted: sources.readingsCommitted,
          alerts: sources.alerts,
          has: {
            uploads: this.config.sync !== null,
            mqtt: this.config.mqtt !== null,
          },
        }),
      );
      return registry;
    };
    try {
      this.http = await startHttpServer({
        ...listen,
        metrics,
        health: () => healthProblems(sources.control.status(), sources.lastFlushError()),
        dashboard: createDashboard({ config: this.config, control: sources.control, log }),
        log,
      });
      const base = `http://${formatListen({ host: listen.host, port: this.http.port })}`;
      log.info(`metrics on ${base}/metrics, dashboard on ${base}/`);
    } catch (error) {
      this.httpError = describeError(error);
      log.error(
        `cannot serve metrics on ${formatListen(listen)}: ${this.httpError}; ` +
          'set [http] listen to a free address, or listen = "" to turn it off',
      );
    }
  }
}
