import { dirname } from "node:path";
import { readApiKey } from "../core/api-key.js";
import { ConfigError, describeError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { SensorConfig, SensordConfig } from "../schemas/config-types.js";
import type { EncoderThread } from "../sync/encoder.js";
import type { EncoderSettings } from "../sync/encoder-protocol.js";
import type { MqttRelay, MqttStatus } from "../sync/mqtt/relay.js";
import type { SyncStatus, SyncWorker } from "../sync/worker.js";
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
import { Recorder, type RecorderStats } from "./pipeline/recorder.js";
import { RunningSensor, type SensorStatus } from "./sampler/running-sensor.js";
import { ENCODER_THREAD_FILE } from "./store/encoder-thread-file.js";
import type { SqliteStore } from "./store/store.js";
import { openStore } from "./store/store.js";
import { ThresholdEngine } from "./thresholds/engine.js";

export interface DaemonStatus {
  sensors: SensorStatus[];
  /** null when there is no [sync] section. */
  sync: SyncStatus | null;
  /** null when there is no [mqtt] section. */
  mqtt: MqttStatus | null;
  recorder: RecorderStats;
  activeAlarms: ReturnType<ThresholdEngine["active"]>;
  clock: ReturnType<ClockWatch["status"]>;
}

/** How the daemon reaches hardware; tests swap in emulators here. */
export interface DaemonHardware {
  openI2cBus?: I2cBusOpener;
  /** How the system clock's state is read (ClockWatch's defaults: timedatectl, timesyncd's file). */
  clock?: Omit<ClockWatchOptions, "log">;
}

/**
 * The code of the sections a config turns on, imported only then: the mqtt
 * client alone is ~13 MiB of RSS once loaded and the sync worker with its
 * encoder thread more (bench/memory.ts), too much to carry on a 512 MB Pi
 * that does not use them.
 */
interface Features {
  sync: { SyncWorker: typeof SyncWorker; EncoderThread: typeof EncoderThread } | null;
  mqtt: { MqttRelay: typeof MqttRelay } | null;
}

async function loadFeatures(config: SensordConfig): Promise<Features> {
  const [sync, mqtt] = await Promise.all([
    config.sync === null
      ? null
      : Promise.all([import("../sync/worker.js"), import("../sync/encoder.js")]).then(
          ([worker, encoder]) => ({
            SyncWorker: worker.SyncWorker,
            EncoderThread: encoder.EncoderThread,
          }),
        ),
    config.mqtt === null
      ? null
      : import("../sync/mqtt/relay.js").then((relay) => ({ MqttRelay: relay.MqttRelay })),
  ]);
  return { sync, mqtt };
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
    private readonly store: SqliteStore,
    private readonly engine: ThresholdEngine,
    private readonly recorder: Recorder,
    private readonly i2cOpener: I2cBusOpener,
    private readonly lastValues: LastValues,
    private readonly clock: ClockWatch,
  ) {
    this.services = new DaemonServices(config, log);
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
    const features = await loadFeatures(config);
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
    const engine = new ThresholdEngine(
      rulesInForce(config, store.thresholdOverrides(), log),
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
    const daemon = new Daemon(
      config,
      log,
      store,
      engine,
      recorder,
      hardware.openI2cBus ?? openI2cBus,
      lastValues,
      clock,
    );
    recorder.start();
    if (features.sync !== null) daemon.startSync(config, store, features.sync);
    if (features.mqtt !== null) daemon.startMqtt(config, store, features.mqtt);
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
    this.engine.setRules(rulesInForce(next, this.store.thresholdOverrides(), this.log));
    if (JSON.stringify(next.storage) !== JSON.stringify(this.config.storage)) {
      this.log.warn("[storage] changed: restart sensord to apply it");
    }
    if (JSON.stringify(next.sync) !== JSON.stringify(this.config.sync)) {
      this.log.warn("[sync] changed: restart sensord to apply it");
    }
    if (JSON.stringify(next.mqtt) !== JSON.stringify(this.config.mqtt)) {
      this.log.warn("[mqtt] changed: restart sensord to apply it");
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
    this.config = {
      ...next,
      storage: this.config.storage,
      sync: this.config.sync,
      mqtt: this.config.mqtt,
    };
    this.log.info(
      `configuration reloaded: ${next.thresholds.length} threshold rule(s), ${next.sensors.length} sensor(s)`,
    );
  }

  status(): DaemonStatus {
    return {
      sensors: [...this.sensors.values()].map((entry) => entry.running.status()),
      recorder: this.recorder.status(),
      activeAlarms: this.engine.active(),
      sync: this.sync?.status() ?? null,
      mqtt: this.mqtt?.status() ?? null,
      clock: this.clock.status(),
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
      applyRules: () => {
        const effective: EffectiveRules = applyOverrides(
          this.config.thresholds,
          this.config.thresholdPreset,
          this.store.thresholdOverrides().list(),
        );
        this.engine.setRules(effective.rules.map((entry) => entry.rule));
        this.log.info(
          `threshold rules changed through the control socket: ${effective.rules.map((entry) => entry.key).join(", ")}`,
        );
      },
      syncStatus: () => {
        const status = this.sync?.status();
        return status === undefined ? null : syncReport(status);
      },
      syncNow: () => this.sync?.trigger({ force: true }) ?? null,
    };
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
    await this.sync?.stop();
    await this.mqtt?.stop();
    try {
      this.store.close();
    } catch (error) {
      this.log.error(`closing the database failed: ${describeError(error)}`);
    }
    return flushed;
  }

  private sync: SyncWorker | null = null;
  private mqtt: MqttRelay | null = null;

  /** Alert events reach the relay through the store's commit hook; the database is its outbox. */
  private startMqtt(
    config: SensordConfig,
    store: SqliteStore,
    { MqttRelay }: NonNullable<Features["mqtt"]>,
  ): void {
    if (config.mqtt === null) return;
    const relay = new MqttRelay({
      config: config.mqtt,
      device: config.device,
      channels: channelsOf(config.sensors),
      outbox: store.mqttOutbox(),
      startSeq: store.lastAlertSeq(),
      idPrefix: store.idPrefix,
      log: this.log.child("mqtt"),
    });
    store.onCommit((readings, alerts) => relay.onCommit(readings, alerts));
    this.mqtt = relay;
    relay.start();
  }

  /** The API key is read now, so a missing file is a config error at start, and again after an auth failure. */
  private startSync(
    config: SensordConfig,
    store: SqliteStore,
    { SyncWorker, EncoderThread }: NonNullable<Features["sync"]>,
  ): void {
    const sync = config.sync;
    if (sync === null) return;
    const log = this.log.child("sync");
    let apiKey: string | null = null;
    if (sync.apiKeyFile !== null) {
      try {
        const read = readApiKey(sync.apiKeyFile);
        if (read.warning !== null) log.warn(read.warning);
        apiKey = read.key;
      } catch (error) {
        throw new ConfigError(config.source, [
          { key: "sync.api_key_file", message: describeError(error) },
        ]);
      }
    }
    const keyFile = sync.apiKeyFile;
    const currentKey = (): string | null => {
      if (keyFile === null) return null;
      try {
        apiKey = readApiKey(keyFile).key;
      } catch (error) {
        log.warn(describeError(error));
      }
      return apiKey;
    };
    const encoderThreadFile = ENCODER_THREAD_FILE;
    this.sync = new SyncWorker({
      config: sync,
      device: config.device,
      queue: store.syncQueue(),
      alertQueue: store.alertUploadQueue(),
      log,
      apiKey: currentKey,
      ...(encoderThreadFile !== null
        ? {
            encoder: (settings: EncoderSettings) =>
              new EncoderThread(encoderThreadFile, {
                ...settings,
                dbPath: store.file,
                idPrefix: store.idPrefix,
              }),
          }
        : {}),
    });
    this.sync.start();
    const when =
      sync.intervalMs > 0 ? `every ${sync.intervalMs} ms` : `on schedule "${sync.schedule}"`;
    log.info(`uploading to ${sync.endpoint} (${sync.format} format, ${when})`);
    const alerts = this.sync.status().alerts;
    log.info(
      alerts === null ? "alert events are not uploaded" : `alert events go to ${alerts.endpoint}`,
    );
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
