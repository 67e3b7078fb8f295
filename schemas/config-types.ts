import type { DecodedSections } from "./config.js";
import type { ComparisonOp, Gas, Severity, Unit } from "./vocabulary.js";

/**
 * The config as the daemon and its outputs use it, after daemon/config/
 * resolves the file (schemas/config.ts): here, next to the file's schema,
 * so outputs in sync/ and sensorctl read the same types without importing
 * the daemon. A key the file's schema already types is typed from it; the
 * shapes stay written out where they differ from the file's (camelCase, ms
 * and bytes in the name, paths resolved, derived fields).
 */

/**
 * The file's sections in the order the schema (schemas/config.ts
 * `configSections`) and the renderer have them; config problems are listed
 * in this order. A plain list, so the daemon orders problems without loading
 * the schema engine.
 */
export const CONFIG_SECTION_NAMES = [
  "device",
  "storage",
  "log",
  "sensors",
  "thresholds",
  "thresholds_preset",
  "sync",
  "mqtt",
  "control",
  "http",
] as const;

/** Everything the daemon runs on, resolved: durations in ms, sizes in bytes, defaults filled in. */
export interface SensordConfig {
  /** The file this came from, or null for built-in defaults (`--simulate` without a file). */
  source: string | null;
  device: DeviceConfig;
  storage: StorageConfig;
  log: LogConfig;
  sensors: SensorConfig[];
  /** The effective rules: preset plus `[[thresholds]]`, see daemon/thresholds/presets.ts. */
  thresholds: ThresholdRule[];
  thresholdPreset: ThresholdPresetName;
  /** null: no `[sync]` section, readings stay on the device. */
  sync: SyncConfig | null;
  /** null: no `[mqtt]` section, alerts are not relayed. */
  mqtt: MqttConfig | null;
  control: ControlConfig;
  http: HttpConfig;
}

export interface ControlConfig {
  /** Absolute path of the control API's Unix socket; null: disabled (`socket = ""`). */
  socket: string | null;
}

export interface HttpConfig {
  /** Where /metrics and /healthz are served; null: disabled (`listen = ""`). */
  listen: { host: string; port: number } | null;
  /** Set: the dashboard's data endpoints need the token this file holds; null: open (loopback). */
  tokenFile: string | null;
}

export interface MqttConfig {
  /** mqtt://, mqtts://, ws:// or wss:// URL of the broker. */
  url: string;
  clientId: string;
  /** Where alert events go. */
  topic: string;
  /** `{device}` already replaced by the device id. */
  statusTopic: string;
  qos: DecodedSections["mqtt"]["qos"];
  /** Absolute paths, or null. The files are read at each connection attempt, not at load. */
  caFile: string | null;
  certFile: string | null;
  keyFile: string | null;
  username: string | null;
  passwordFile: string | null;
  /** TLS ALPN protocol, e.g. "x-amzn-mqtt-ca" for AWS IoT on port 443; null: none. */
  alpn: string | null;
  publishReadings: boolean;
  homeassistant: boolean;
}

export interface SyncConfig {
  endpoint: string;
  format: DecodedSections["sync"]["format"];
  index: string;
  schedule: string;
  /** > 0: upload continuously at this period instead of the cron schedule. */
  intervalMs: number;
  /** Absolute path of the API key file, or null. The key itself is read at start and on reload. */
  apiKeyFile: string | null;
  batchMaxReadings: number;
  batchMaxBytes: number;
  /** Limits of a backlog batch (oldest-first drain); at least the live ones above. */
  backlogBatchMaxReadings: number;
  backlogBatchMaxBytes: number;
  maxRate: number;
  timeoutMs: number;
  compress: boolean;
  /** Where alert events are POSTed (resolved, see daemon/config/alerts-endpoint.ts); null: not uploaded. */
  alertsEndpoint: string | null;
  /** Where the fleet's desired thresholds are fetched (daemon/config/fleet-endpoint.ts); null: off. */
  fleetEndpoint: string | null;
}

export interface DeviceConfig {
  id: string;
  group: string;
  /** "lat, lng" as the original system sends it, or null. */
  gps: string | null;
  /** IANA zone name, e.g. Asia/Seoul. */
  timezone: string;
}

export interface StorageConfig {
  path: string;
  flushIntervalMs: number;
  maxBytes: number;
}

export type LogConfig = DecodedSections["log"];

/** stored value = slope x driver value + offset. */
export interface LinearCalibration {
  slope: number;
  offset: number;
}

export interface ChannelConfig {
  unit: Unit;
  /** When set, the driver's value is calibrated into `unit` instead of unit-converted. */
  calibration: LinearCalibration | null;
  /** The original system's `sensorid` / `sensortype`, for compatible uploads. */
  sensorId: string | null;
  sensorType: string | null;
}

export interface SensorConfig {
  id: string;
  driver: string;
  /** 0 means "as fast as the driver produces" (replay only). */
  intervalMs: number;
  warmupMs: number;
  /** Per-gas metadata; every gas the driver produces gets an entry (defaults filled in on first sight). */
  channels: Partial<Record<Gas, ChannelConfig>>;
  /** Driver-specific keys, validated by the driver's own schema (see daemon/drivers/registry.ts). */
  options: Record<string, unknown>;
}

export interface ThresholdRule {
  gas: Gas;
  op: ComparisonOp;
  value: number;
  /** null: the channel's unit. */
  unit: Unit | null;
  /** Hysteresis level; null: clears as soon as the raise condition stops holding. */
  clear: number | null;
  forMs: number;
  severity: Severity;
  /** null: applies to every sensor that reports `gas`. */
  sensor: string | null;
}

export type ThresholdPresetName = NonNullable<DecodedSections["thresholds_preset"]["preset"]>;
