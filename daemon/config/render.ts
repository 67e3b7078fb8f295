import { stringify } from "smol-toml";
import { formatDuration } from "../../core/duration.js";
import { formatSize } from "../../core/size.js";
import type {
  ChannelConfig,
  MqttConfig,
  SensorConfig,
  SensordConfig,
  SyncConfig,
  ThresholdRule,
} from "../../schemas/config-types.js";
import { formatListen } from "./http.js";

/**
 * The effective config as TOML in the file's own format, for `sensorctl
 * config check`: every default filled in, durations and sizes in units, paths
 * absolute, and the effective alarm rules (preset included) as
 * `[[thresholds]]`. Parsing the output gives the same config back (the
 * preset is kept by name; its rules, listed, replace themselves).
 */
export function renderConfig(config: SensordConfig): string {
  const document = {
    device: {
      id: config.device.id,
      group: config.device.group,
      ...(config.device.gps === null ? {} : { gps: config.device.gps }),
      timezone: config.device.timezone,
    },
    storage: {
      path: config.storage.path,
      flush_interval: formatDuration(config.storage.flushIntervalMs),
      max_bytes: formatSize(config.storage.maxBytes),
    },
    log: { level: config.log.level },
    sensors: config.sensors.map(renderSensor),
    thresholds_preset: { preset: config.thresholdPreset },
    thresholds: config.thresholds.map(renderRule),
    ...(config.sync === null ? {} : { sync: renderSync(config.sync) }),
    ...(config.mqtt === null ? {} : { mqtt: renderMqtt(config.mqtt) }),
    control: { socket: config.control.socket ?? "" },
    http: {
      listen: config.http.listen === null ? "" : formatListen(config.http.listen),
      ...(config.http.tokenFile === null ? {} : { token_file: config.http.tokenFile }),
    },
  };
  const preset =
    config.thresholdPreset === "none"
      ? "no preset"
      : `the "${config.thresholdPreset}" preset's included`;
  const header = [
    `# sensord effective configuration (${config.source ?? "built-in defaults"})`,
    `# Defaults are filled in; [[thresholds]] lists every rule in force (${preset}).`,
  ];
  return `${header.join("\n")}\n\n${stringify(document).trimEnd()}\n`;
}

function renderMqtt(mqtt: MqttConfig): Record<string, unknown> {
  const optional = (key: string, value: string | null) => (value === null ? {} : { [key]: value });
  return {
    url: mqtt.url,
    client_id: mqtt.clientId,
    topic: mqtt.topic,
    status_topic: mqtt.statusTopic,
    qos: mqtt.qos,
    ...optional("ca_file", mqtt.caFile),
    ...optional("cert_file", mqtt.certFile),
    ...optional("key_file", mqtt.keyFile),
    ...optional("username", mqtt.username),
    ...optional("password_file", mqtt.passwordFile),
    ...optional("alpn", mqtt.alpn),
    publish_readings: mqtt.publishReadings,
    homeassistant: mqtt.homeassistant,
  };
}

function renderSync(sync: SyncConfig): Record<string, unknown> {
  return {
    endpoint: sync.endpoint,
    format: sync.format,
    index: sync.index,
    schedule: sync.schedule,
    interval: formatDuration(sync.intervalMs),
    ...(sync.apiKeyFile === null ? {} : { api_key_file: sync.apiKeyFile }),
    batch_max_readings: sync.batchMaxReadings,
    batch_max_bytes: formatSize(sync.batchMaxBytes),
    backlog_batch_max_readings: sync.backlogBatchMaxReadings,
    backlog_batch_max_bytes: formatSize(sync.backlogBatchMaxBytes),
    max_rate: sync.maxRate,
    timeout: formatDuration(sync.timeoutMs),
    compress: sync.compress,
    // Always written out: the resolved value (a default derived from `endpoint`, or "" for off).
    alerts_endpoint: sync.alertsEndpoint ?? "",
    fleet_config: sync.fleetEndpoint !== null,
  };
}

function renderSensor(sensor: SensorConfig): Record<string, unknown> {
  const channels = Object.entries(sensor.channels).flatMap(([gas, channel]) =>
    channel === undefined ? [] : [[gas, renderChannel(channel)] as const],
  );
  return {
    id: sensor.id,
    driver: sensor.driver,
    interval: formatDuration(sensor.intervalMs),
    warmup: formatDuration(sensor.warmupMs),
    ...sensor.options,
    ...(channels.length === 0 ? {} : { channels: Object.fromEntries(channels) }),
  };
}

function renderChannel(channel: ChannelConfig): Record<string, unknown> {
  return {
    unit: channel.unit,
    ...(channel.sensorId === null ? {} : { sensor_id: channel.sensorId }),
    ...(channel.sensorType === null ? {} : { sensor_type: channel.sensorType }),
    ...(channel.calibration === null ? {} : { calibration: { ...channel.calibration } }),
  };
}

function renderRule(rule: ThresholdRule): Record<string, unknown> {
  return {
    gas: rule.gas,
    op: rule.op,
    value: rule.value,
    ...(rule.unit === null ? {} : { unit: rule.unit }),
    ...(rule.clear === null ? {} : { clear: rule.clear }),
    for: formatDuration(rule.forMs),
    severity: rule.severity,
    ...(rule.sensor === null ? {} : { sensor: rule.sensor }),
  };
}
