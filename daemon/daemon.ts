import { dirname } from "node:path";
import { describeError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { SensorConfig, SensordConfig } from "../schemas/config-types.js";
import type { OutputStatus } from "../sync/output/contract.js";
import {
  OUTPUT_SECTIONS,
  type SectionName,
  type SectionStarter,
  type SectionStatuses,
  type StartedSection,
  sectionStatuses,
} from "../sync/output/registry.js";
import { ClockWatch, type ClockWatchOptions } from "./clock/clock-watch.js";
import { inapplicableRuleWarnings } from "./config/applicability.js";
import { LastValues } from "./control/last-values.js";
import { liveStatus } from "./control/report.js";
import type { ControlDeps } from "./control/routes/deps.js";
import { applyOverrides, type EffectiveRules } from "./control/rules.js";
import { DaemonServices, rulesInForce } from "./control/services.js";
import { syncReport } from "./control/status.js";
import { channelsOf } from "./drivers/channels.js";
import { type I2cBusOpener, openI2cBus } from "./drivers/i2c/bus.js";
import { DRIVERS } from "./drivers/registry.js";
import type { FleetReport } from "./fleet/thresholds.js";
import { FleetThresholds } from "./fleet/thresholds.js";
import { Recorder, type RecorderStats } from "./pipeline/recorder.js";
import { RunningSensor, type SensorStatus } from "./sampler/running-sensor.js";
import { ENCODER_THREAD_FILE } from "./store/encoder-thread-file.js";
import type { SqliteStore } from "./store/store.js";
import { openStore } from "./store/store.js";
import { ThresholdEngine } from "./thresholds/engine.js";

export interface DaemonStatus {
  sensors: SensorStatus[];
  /** null when there is no [sync] section. */
  sync: SectionStatuses["sync"] | null;
  /** null when there is no [mqtt] section. */
  mqtt: SectionStatuses["mqtt"] | null;
  /** Every output, in the one shape they all report. */
  outputs: OutputStatus[];
  recorder: RecorderStats;
  activeAlarms: ReturnType<ThresholdEngine["active"]>;
  clock: ReturnType<ClockWatch["status"]>;
  /** null when the fleet's thresholds are not fetched ([sync] fleet_config, see SyncConfig.fleetEndpoint). */
  fleet: FleetReport | null;
}

/** How the daemon reaches hardware; tests swap in emulators here. */
export interface DaemonHardware {
  openI2cBus?: I2cBusOpener;
  /** How the system clock's state is read (ClockWatch's defaults: timedatectl, timesyncd's file). */
  clock?: Omit<ClockWatchOptions, "log">;
}

/** The output sections a config turns on, with their code loaded (see OUTPUT_SECTIONS). */
type LoadedSections = { section: SectionName; start: SectionStarter<SectionName> }[];

async function loadSections(config: SensordConfig): Promise<LoadedSections> {
  const wanted = OUTPUT_SECTIONS.filter((entry) => config[entry.section] !== null);
  return Promise.all(
    wanted.map(async (entry) => ({ section: entry.section, start: await entry.load() })),
  );
}

/** How long shutdown waits for a driver stuck in a read (a hung bus) before flushing anyway. */
const SENSOR_STOP_TIMEOUT_MS = 2000;

/**
 * Wires config -> store -> threshold engine -> recorder -> one RunningSensor per
 * `[[sensors]]` entry. Owns start, reload (SIGHUP) and stop; no I/O of its own.
 */
export class Daemon {
  private readonly sensors = new Map<string, { config: SensorConfig; running: RunningSensor }>();
  /** The output sections running, in OUTPUT_SECTIONS order. */
  private readonly outputs: StartedSection[] = [];

  private constructor(
    private config: SensordConfig,
    private readonly log: Logger,
    private readonly store: SqliteStore,
    private readonly engine: ThresholdEngine,
    private readonly recorder: Recorder,
    private readonly i2cOpener: I2cBusOpener,
    private readonly lastValues: LastValues,
    private readonly clock: ClockWatch,
    private readonly fleet: FleetThresholds | null,
  ) {
    this.services = new DaemonServices(config, log);
    fleet?.whenApplied(() => this.applyRules("from the fleet"));
  }

  private readonly startedAtMs = Date.now();
  /** Control socket and metrics: [control] and [http] changes need a restart, like [storage]. */
  private readonly services: DaemonServices;

  static async start(
    config: SensordConfig,
    log: Logger,
    hardware: DaemonHardware = {},
  ): Promise<Daemon> {
    // Before the store opens: nothing is left to close if an import fails.
    const sections = await loadSections(config);
    const store = openStore({
      path: config.storage.path,
      maxBytes: config.storage.maxBytes,
      log: log.child("store"),
    });
    const restored = store
      .activeAlarms()
      .map((alarm) => ({ rule: alarm.rule, sensor: alarm.sensor, sinceMs: alarm.tsMs }));
    if (restored.length > 0) {
      log.info(
        `restored ${restored.length} active alarm(s): ${restored.map((alarm) => `${alarm.rule} on ${alarm.sensor}`).join(", ")}`,
      );
    }
    const fleetEndpoint = config.sync?.fleetEndpoint ?? null;
    let daemon: Daemon | null = null;
    // Loaded before the engine starts: a Pi restarted without network runs the set it applied last.
    const fleet =
      fleetEndpoint === null
        ? null
        : new FleetThresholds({
            table: store.fleetThresholds(),
            sensors: () => daemon?.sensorConfigs() ?? config.sensors,
            endpoint: fleetEndpoint,
            log: log.child("fleet"),
          });
    const engine = new ThresholdEngine(
      rulesInForce(config, store.thresholdOverrides(), log, fleet?.layer() ?? null),
      restored,
    );
    // Before the first reading: those of a Pi that just booted without a real-time clock are the ones to flag.
    const clock = new ClockWatch({ ...hardware.clock, log: log.child("clock") });
    clock.start();
    const lastValues = new LastValues();
    store.onCommit((readings, alerts) => lastValues.record(readings, alerts));
    const recorder = new Recorder({
      store,
      engine,
      log: log.child("recorder"),
      flushIntervalMs: config.storage.flushIntervalMs,
    });
    daemon = new Daemon(
      config,
      log,
      store,
      engine,
      recorder,
      hardware.openI2cBus ?? openI2cBus,
      lastValues,
      clock,
      fleet,
    );
    recorder.start();
    for (const { start } of sections) {
      daemon.outputs.push(
        start({
          config,
          channels: channelsOf(config.sensors),
          storage: store,
          encoderThreadFile: ENCODER_THREAD_FILE,
          log,
          fleet,
        }),
      );
    }
    for (const sensor of config.sensors) daemon.startSensor(sensor);
    for (const warning of inapplicableRuleWarnings(config)) log.warn(warning);
    log.info(
      `sensord started: device ${config.device.id}, ${config.sensors.length} sensor(s), ${config.thresholds.length} threshold rule(s), database ${config.storage.path}`,
    );
    return daemon;
  }

  /** SIGHUP: new thresholds apply at once (alarm state kept); changed sensors restart; storage needs a restart. */
  async reload(next: SensordConfig): Promise<void> {
    this.log.setLevel(next.log.level);
    this.fleet?.recheck(next.sensors);
    this.engine.setRules(
      rulesInForce(next, this.store.thresholdOverrides(), this.log, this.fleet?.layer() ?? null),
    );
    if (JSON.stringify(next.storage) !== JSON.stringify(this.config.storage)) {
      this.log.warn("[storage] changed: restart sensord to apply it");
    }
    for (const { section } of OUTPUT_SECTIONS) {
      if (JSON.stringify(next[section]) !== JSON.stringify(this.config[section])) {
        this.log.warn(`[${section}] changed: restart sensord to apply it`);
      }
    }
    const wanted = new Map(next.sensors.map((sensor) => [sensor.id, sensor]));
    for (const [id, entry] of this.sensors) {
      const replacement = wanted.get(id);
      if (replacement && JSON.stringify(replacement) === JSON.stringify(entry.config)) continue;
      await entry.running.stop();
      this.sensors.delete(id);
    }
    for (const sensor of next.sensors) {
      if (!this.sensors.has(sensor.id)) this.startSensor(sensor);
    }
    const kept = { ...next, storage: this.config.storage };
    for (const { section } of OUTPUT_SECTIONS) keep(kept, this.config, section);
    this.config = kept;
    this.log.info(
      `configuration reloaded: ${next.thresholds.length} threshold rule(s), ${next.sensors.length} sensor(s)`,
    );
  }

  status(): DaemonStatus {
    const sections = sectionStatuses(this.outputs);
    return {
      sensors: [...this.sensors.values()].map((entry) => entry.running.status()),
      recorder: this.recorder.status(),
      activeAlarms: this.engine.active(),
      sync: sections.sync ?? null,
      mqtt: sections.mqtt ?? null,
      outputs: this.outputs.flatMap((section) => section.outputs()),
      clock: this.clock.status(),
      fleet: this.fleet?.status() ?? null,
    };
  }

  /** The sensors as configured now (after any reload): the watchdog derives each one's deadline from it. */
  sensorConfigs(): readonly SensorConfig[] {
    return this.config.sensors;
  }

  /** Starts the control socket and /metrics; a failure is logged, never fatal (see DaemonServices). */
  async serve(): Promise<void> {
    await this.services.start({
      control: this.controlDeps(),
      readingsCommitted: () => this.recorder.status().committed,
      alerts: () => this.lastValues.alerts,
      lastFlushError: () => this.recorder.status().lastFlushError,
    });
  }

  /** What the control API's handlers act on. */
  private controlDeps(): ControlDeps {
    const overrides = () => ({
      table: this.store.thresholdOverrides(),
      config: this.config,
      fleet: this.fleet?.layer() ?? null,
      now: Date.now,
    });
    return {
      status: () =>
        liveStatus({
          config: this.config,
          status: this.status(),
          lastValues: this.lastValues,
          startedAtMs: this.startedAtMs,
          droppedByRetentionTotal: this.store.droppedReadingsTotal(),
          http: this.services.httpState(),
          nowMs: Date.now(),
        }),
      overrides,
      applyRules: () => this.applyRules("through the control socket"),
      syncStatus: () => {
        const status = sectionStatuses(this.outputs).sync;
        return status === undefined ? null : syncReport(status);
      },
      syncNow: () => {
        const runs = this.outputs.flatMap((section) => section.runNow?.() ?? []);
        return runs.length === 0 ? null : Promise.all(runs).then(() => undefined);
      },
    };
  }

  /**
   * Recomputes the rules in force (config, fleet set, overrides) and hands
   * them to the engine, which keeps the alarm state of unchanged rules and
   * clears the alarms of rules gone on their next reading.
   */
  private applyRules(how: string): void {
    const effective: EffectiveRules = applyOverrides(
      this.config.thresholds,
      this.config.thresholdPreset,
      this.store.thresholdOverrides().list(),
      this.fleet?.layer() ?? null,
    );
    this.engine.setRules(effective.rules.map((entry) => entry.rule));
    this.log.info(
      `threshold rules changed ${how}: ${effective.rules.map((entry) => entry.key).join(", ")}`,
    );
  }

  /** Stops sampling, commits what is pending, closes the database; true when nothing was left uncommitted. */
  async stop(): Promise<boolean> {
    await this.services.stop();
    const stops = [...this.sensors.values()].map((entry) => entry.running.stop());
    const timedOut = await Promise.race([
      Promise.all(stops).then(() => false),
      new Promise<boolean>((resolve) => setTimeout(resolve, SENSOR_STOP_TIMEOUT_MS, true).unref()),
    ]);
    if (timedOut) this.log.warn("a sensor did not stop in time (stuck read?); flushing anyway");
    this.clock.stop();
    const flushed = this.recorder.stop();
    for (const section of this.outputs) await section.stop();
    try {
      this.store.close();
    } catch (error) {
      this.log.error(`closing the database failed: ${describeError(error)}`);
    }
    return flushed;
  }

  private startSensor(sensor: SensorConfig): void {
    const definition = DRIVERS.get(sensor.driver);
    if (!definition) throw new Error(`driver ${sensor.driver} is not registered`);
    const log = this.log.child(sensor.id);
    const baseDir = this.config.source ? dirname(this.config.source) : process.cwd();
    const running = new RunningSensor({
      sensor,
      driver: definition.create(sensor, { log, baseDir, openI2cBus: this.i2cOpener }),
      log,
      // A sample with its own time (replayed data) was not stamped by this clock.
      onSample: (sample, tsMs, warmingUp) =>
        this.recorder.record(
          sensor,
          sample,
          tsMs,
          warmingUp,
          sample.ts === undefined && this.clock.unsyncedAt(tsMs),
        ),
      // No more readings are coming from this source: waiting for the flush
      // timer would only leave the last ones uncommitted for nothing.
      onFinished: () => this.recorder.flush(),
    });
    this.sensors.set(sensor.id, { config: sensor, running });
    running.start();
  }
}

/** Keeps `from`'s config of `section` in `into`: a changed output section applies only after a restart. */
function keep<Name extends SectionName>(
  into: SensordConfig,
  from: SensordConfig,
  section: Name,
): void {
  into[section] = from[section];
}
