import { dirname } from "node:path";
import { inapplicableRuleWarnings } from "./config/applicability.js";
import type { SensorConfig, SensordConfig } from "./config/types.js";
import { type I2cBusOpener, openI2cBus } from "./drivers/i2c/bus.js";
import { DRIVERS } from "./drivers/registry.js";
import { describeError } from "./errors.js";
import type { Logger } from "./log/logger.js";
import { Recorder, type RecorderStats } from "./pipeline/recorder.js";
import { RunningSensor, type SensorStatus } from "./sampler/running-sensor.js";
import { openStore } from "./store/store.js";
import type { ReadingStore } from "./store/types.js";
import { ThresholdEngine } from "./thresholds/engine.js";

export interface DaemonStatus {
  sensors: SensorStatus[];
  recorder: RecorderStats;
  activeAlarms: ReturnType<ThresholdEngine["active"]>;
}

/** How the daemon reaches hardware; tests swap in emulators here. */
export interface DaemonHardware {
  openI2cBus?: I2cBusOpener;
}

/** How long shutdown waits for a driver stuck in a read (a hung bus) before flushing anyway. */
const SENSOR_STOP_TIMEOUT_MS = 2000;

/**
 * Wires config -> store -> threshold engine -> recorder -> one RunningSensor per
 * `[[sensors]]` entry. Owns start, reload (SIGHUP) and stop; no I/O of its own.
 */
export class Daemon {
  private readonly sensors = new Map<string, { config: SensorConfig; running: RunningSensor }>();

  private constructor(
    private config: SensordConfig,
    private readonly log: Logger,
    private readonly store: ReadingStore,
    private readonly engine: ThresholdEngine,
    private readonly recorder: Recorder,
    private readonly i2cOpener: I2cBusOpener,
  ) {}

  static start(config: SensordConfig, log: Logger, hardware: DaemonHardware = {}): Daemon {
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
    const engine = new ThresholdEngine(config.thresholds, restored);
    const recorder = new Recorder({
      store,
      engine,
      log: log.child("recorder"),
      flushIntervalMs: config.storage.flushIntervalMs,
    });
    const daemon = new Daemon(
      config,
      log,
      store,
      engine,
      recorder,
      hardware.openI2cBus ?? openI2cBus,
    );
    recorder.start();
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
    this.engine.setRules(next.thresholds);
    if (JSON.stringify(next.storage) !== JSON.stringify(this.config.storage)) {
      this.log.warn("[storage] changed: restart sensord to apply it");
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
    this.config = { ...next, storage: this.config.storage };
    this.log.info(
      `configuration reloaded: ${next.thresholds.length} threshold rule(s), ${next.sensors.length} sensor(s)`,
    );
  }

  status(): DaemonStatus {
    return {
      sensors: [...this.sensors.values()].map((entry) => entry.running.status()),
      recorder: this.recorder.status(),
      activeAlarms: this.engine.active(),
    };
  }

  /** Stops sampling, commits what is pending, closes the database; true when nothing was left uncommitted. */
  async stop(): Promise<boolean> {
    const stops = [...this.sensors.values()].map((entry) => entry.running.stop());
    const timedOut = await Promise.race([
      Promise.all(stops).then(() => false),
      new Promise<boolean>((resolve) => setTimeout(resolve, SENSOR_STOP_TIMEOUT_MS, true).unref()),
    ]);
    if (timedOut) this.log.warn("a sensor did not stop in time (stuck read?); flushing anyway");
    const flushed = this.recorder.stop();
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
      onSample: (sample, tsMs, warmingUp) => this.recorder.record(sensor, sample, tsMs, warmingUp),
    });
    this.sensors.set(sensor.id, { config: sensor, running });
    running.start();
  }
}
