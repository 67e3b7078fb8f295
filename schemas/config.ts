import {
  CloneType,
  type Static,
  type TArray,
  type TObject,
  type TOptional,
  type TProperties,
  type TSchema,
  type TString,
  Type,
} from "@sinclair/typebox";
import { LOG_LEVELS } from "../core/logger.js";
import { DURATION_PATTERN, SENSOR_ID_PATTERN, SIZE_PATTERN } from "./names.js";
import { ComparisonOp, Gas, Severity, Unit, WireName } from "./vocabulary.js";

/**
 * The config file (`sensord.toml`): the single source of truth for the file
 * format, its defaults (`default`) and which strings are durations or sizes
 * (`decode`, with their `min` / `max` as written in the file).
 * schemas/compile.ts turns those into a table daemon/config/decode.ts fills
 * defaults in and decodes durations to ms and sizes to bytes from, so the
 * running daemon never loads TypeBox. The names are a user-facing contract:
 * do not rename keys.
 */

export { DURATION_PATTERN, SENSOR_ID_PATTERN, SIZE_PATTERN } from "./names.js";

const closed = { additionalProperties: false } as const;

/** What a `decode` key turns into: a duration into ms, a size into bytes. */
export type DecodeKind = "duration" | "size";

/** A string the loader decodes into a number (TypeBox's Static knows only the string). */
export type TDecoded = TString & { decode: DecodeKind };

/** A key the loader fills in when the file leaves it out. */
export type TDefaulted<T extends TSchema> = TOptional<T> & { default: Static<T> };

/**
 * Optional, with `value` as its default; the description ends with the
 * default, written from the value itself so the two cannot disagree. `note`
 * says when another key changes it.
 */
function withDefault<T extends TSchema>(schema: T, value: Static<T>, note = ""): TDefaulted<T> {
  const description = `${schema.description}. Default: ${JSON.stringify(value)}${note}`;
  // CloneType(schema, options) would let the schema's own description win over `options`.
  return Type.Optional(CloneType({ ...schema, default: value, description })) as TDefaulted<T>;
}

/** As written in the file; a maximum comes with a minimum. */
type DecodedRange = { min?: string; max?: never } | { min: string; max?: string };

function rangeText({ min, max }: DecodedRange): string {
  if (min !== undefined && max !== undefined) return `; from "${min}" to "${max}"`;
  if (min !== undefined) return `; at least "${min}"`;
  return "";
}

/** A duration ("250ms", "5m"); the loader checks `min` / `max` and reports the range. */
function duration(description: string, range: DecodedRange = {}): TDecoded {
  return Type.String({
    pattern: DURATION_PATTERN,
    decode: "duration",
    ...range,
    description: `${description}${rangeText(range)}`,
  }) as TDecoded;
}

/** A size ("256KiB"); `examples` name a sensible value for the message when it is below `min`. */
function size(description: string, options: { min: string; examples: string[] }): TDecoded {
  return Type.String({
    pattern: SIZE_PATTERN,
    decode: "size",
    ...options,
    description: `${description}${rangeText(options)}`,
  }) as TDecoded;
}

export const DeviceSection = Type.Object(
  {
    id: Type.Optional(
      WireName({
        minLength: 1,
        description:
          "Device id sent with every reading, at most 64 printable characters (the ingest refuses longer). Default: the hostname",
      }),
    ),
    group: withDefault(
      WireName({
        minLength: 0,
        description:
          "Group id (the original system's `groupid`), a string of at most 64 printable characters",
      }),
      "0",
    ),
    gps: Type.Optional(
      Type.String({
        description:
          'Fixed position as "lat, lng" in decimal degrees, e.g. "37.6100, 126.9963". Default: none',
      }),
    ),
    timezone: Type.Optional(
      Type.String({
        minLength: 1,
        description: "IANA time zone for local times, e.g. Asia/Seoul. Default: the system's zone",
      }),
    ),
  },
  { ...closed, description: "[device]: who this Pi is" },
);

export const StorageSection = Type.Object(
  {
    path: withDefault(
      Type.String({
        minLength: 1,
        description:
          "SQLite database file; a relative path resolves against the config file's folder",
      }),
      "/var/lib/sensord/sensord.db",
    ),
    // Below 10ms commits would wear an SD card for no gain; above 10m a power cut loses too much.
    flush_interval: withDefault(
      duration("How long readings may wait in memory before they are committed", {
        min: "10ms",
        max: "10m",
      }),
      "1s",
    ),
    max_bytes: withDefault(
      size(
        "Cap on the database size; past it, uploaded readings are deleted first, then the oldest",
        { min: "1MiB", examples: ["64MiB"] },
      ),
      "256MiB",
    ),
  },
  { ...closed, description: "[storage]: where and how readings are committed" },
);

export const LogLevel = Type.Union(
  LOG_LEVELS.map((level) => Type.Literal(level)),
  { description: `Log level: ${LOG_LEVELS.join(" | ")}` },
);

export const LogSection = Type.Object(
  { level: withDefault(LogLevel, "info") },
  { ...closed, description: "[log]" },
);

export const ChannelSection = Type.Object(
  {
    unit: Type.Optional(
      Type.Union(Unit.anyOf, {
        description:
          "Unit readings of this gas are stored in. Default: ppb for no2, % for o2, raw for voc, else ppm",
      }),
    ),
    sensor_id: Type.Optional(
      Type.String({
        description:
          'The original system\'s `sensorid` for this channel, e.g. "0006". Default: none',
      }),
    ),
    sensor_type: Type.Optional(
      Type.String({
        description:
          'The original system\'s `sensortype` for this channel, e.g. "9". Default: none',
      }),
    ),
    calibration: Type.Optional(
      Type.Object(
        {
          slope: Type.Number({ description: "Multiplier applied to the driver's value. Required" }),
          offset: Type.Optional(
            Type.Number({ description: "Added after the multiplier, in `unit`. Default: 0" }),
          ),
        },
        {
          ...closed,
          description:
            "Linear calibration: stored value = slope x driver value + offset, in `unit`. For drivers " +
            "that report raw ADC counts or volts (grove-gm). Default: none",
        },
      ),
    ),
  },
  { ...closed, description: "[sensors.channels.<gas>]: per-gas metadata" },
);

export const ChannelsSection = Type.Partial(Type.Record(Gas, ChannelSection), {
  ...closed,
  description: "Per-gas channel settings, keyed by gas name",
});

/** The keys every `[[sensors]]` entry accepts, whatever its driver. */
export const sensorCommonProperties = {
  id: Type.String({
    pattern: SENSOR_ID_PATTERN,
    description:
      "Unique sensor name, e.g. gas0: a letter or digit, then letters, digits, _ . - (at most 64). Required",
  }),
  driver: Type.String({ description: "Driver name, e.g. sim or replay. Required" }),
  interval: Type.Optional(
    duration(
      'Time between reads, at least 10ms; "0s" (as fast as possible) only for drivers that allow it. ' +
        "Default: the driver's",
    ),
  ),
  warmup: Type.Optional(
    duration("Readings in this long after start are flagged `warmup`. Default: the driver's"),
  ),
  channels: Type.Optional(ChannelsSection),
} satisfies TProperties;

/** One `[[sensors]]` entry: the common keys plus the driver's own (`optionsSchema`), nothing else. */
export function sensorEntrySchema(driverOptions?: TObject) {
  return Type.Object(
    { ...sensorCommonProperties, ...driverProperties(driverOptions) },
    { ...closed, description: "[[sensors]]: one sensor and its driver" },
  );
}

/** A driver's own keys; it cannot redefine a common key. */
function driverProperties(driverOptions?: TObject): TProperties {
  const properties: TProperties = {};
  for (const [key, schema] of Object.entries(driverOptions?.properties ?? {})) {
    if (!(key in sensorCommonProperties)) properties[key] = schema;
  }
  return properties;
}

/** With only the common keys; load.ts validates each entry with its driver's keys merged in. */
export const SensorEntry = sensorEntrySchema();

/** For sensors whose driver is unknown: the common keys only, the rest cannot be judged. */
export const LenientSensorEntry = Type.Object(sensorCommonProperties);

export const ThresholdEntry = Type.Object(
  {
    gas: Type.Union(Gas.anyOf, { description: "Gas the rule watches, e.g. no2. Required" }),
    op: withDefault(
      Type.Union(ComparisonOp.anyOf, {
        description: "Raise when reading <op> value: >= | > | <= | <",
      }),
      ">=",
    ),
    value: Type.Number({ description: "Threshold, in `unit`. Required" }),
    unit: Type.Optional(
      Type.Union(Unit.anyOf, {
        description:
          "Unit of `value` and `clear`; must convert to the channel's unit. Default: the channel's unit",
      }),
    ),
    clear: Type.Optional(
      Type.Number({
        description:
          "Hysteresis: the alarm clears only once the reading is back past this level (on the safe side of " +
          "`value`). Default: clears as soon as the condition stops holding",
      }),
    ),
    for: withDefault(duration("How long the condition must hold before raising"), "0s"),
    severity: withDefault(
      Type.Union(Severity.anyOf, { description: "warning | critical" }),
      "warning",
    ),
    sensor: Type.Optional(
      Type.String({
        description: "Only for this sensor id. Default: every sensor reporting `gas`",
      }),
    ),
  },
  { ...closed, description: "[[thresholds]]: one alarm rule" },
);

export const ThresholdPresetName = Type.Union(
  (["safety", "original", "none"] as const).map((name) => Type.Literal(name)),
  {
    description:
      "Built-in rules: safety (occupational limits), original (the original system's), none. " +
      "Default: safety when there are no [[thresholds]], else none",
  },
);

export const ThresholdsPresetSection = Type.Object(
  { preset: Type.Optional(ThresholdPresetName) },
  { ...closed, description: "[thresholds_preset]: built-in rules merged with [[thresholds]]" },
);

export const SyncFormat = Type.Union([Type.Literal("batch"), Type.Literal("original")], {
  description:
    "batch: sensord.batch.v1 (schemas/json/batch.v1.json); original: one document per sampling " +
    "cycle, as the original API Gateway expects",
});

const readingsPerRequest = { minimum: 1, maximum: 100_000 } as const;

export const SyncSection = Type.Object(
  {
    endpoint: Type.String({
      description:
        "URL readings are POSTed to (http:// or https://). Required when [sync] is present",
    }),
    format: withDefault(SyncFormat, "batch"),
    index: withDefault(
      Type.String({ description: "Sent as the `index` header (the original gateway needs it)" }),
      "gasdetect",
    ),
    schedule: withDefault(
      Type.String({ description: "Cron expression (node-cron) uploads run on" }),
      "* * * * *",
      " (every minute)",
    ),
    interval: withDefault(
      duration("Greater than 0: upload continuously at this period instead of the schedule"),
      "0s",
    ),
    api_key_file: Type.Optional(
      Type.String({
        description:
          "File holding the API key sent as x-api-key; readable only by the service user. Default: none",
      }),
    ),
    batch_max_readings: withDefault(
      Type.Integer({ ...readingsPerRequest, description: "Readings per request at most" }),
      1000,
    ),
    batch_max_bytes: withDefault(
      size("Request body size at most (before gzip)", { min: "1KiB", examples: ["256KiB"] }),
      "256KiB",
    ),
    /*
     * A backlog goes in bigger requests than live data: 2.4x fewer requests
     * (per-request costs are the endpoint's too) for the same drain rate. Paired
     * runs of the sensord binary (300k backlog to the minimal receiver, 2-core VM,
     * median of 3): 1000 and 2500 readings gave the same rate within the noise
     * (125k-195k vs 137k-149k/s), 5000 and 10000 were slower (106k, 123k/s) and
     * took more CPU and 25-60 MiB more peak RSS. 1 MiB is not binding at 2500
     * readings and an eighth of sensord-ingest's 8 MiB body limit; a smaller
     * endpoint answers 413 and the batch is split.
     */
    backlog_batch_max_readings: withDefault(
      Type.Integer({
        ...readingsPerRequest,
        description:
          "Readings per request at most while draining a backlog (oldest first); at least batch_max_readings",
      }),
      2500,
      ", or batch_max_readings when that is written out",
    ),
    backlog_batch_max_bytes: withDefault(
      size(
        "Request body size at most (before gzip) while draining a backlog; at least batch_max_bytes",
        { min: "1KiB", examples: ["1MiB"] },
      ),
      "1MiB",
      ", or batch_max_bytes when that is written out",
    ),
    max_rate: withDefault(
      Type.Integer({ minimum: 1, description: "Readings per second at most while backfilling" }),
      20_000,
    ),
    timeout: withDefault(
      duration("Deadline for one request: connect, headers and body each", {
        min: "100ms",
        max: "10m",
      }),
      "15s",
    ),
    compress: withDefault(Type.Boolean({ description: "gzip request bodies over 1 KiB" }), true),
    alerts_endpoint: Type.Optional(
      Type.String({
        description:
          'URL alert events are POSTed to (sensord.alerts.v1); "" turns alert uploads off. ' +
          'Default: the endpoint with "/alerts" appended to its path for format "batch", off for "original"',
      }),
    ),
    fleet_config: withDefault(
      Type.Boolean({
        description:
          "Fetch the fleet's desired thresholds each cycle (GET /fleet/desired next to the endpoint's " +
          'last path segment "ingest" or "proxyLambda") and apply them; off when the endpoint has neither',
      }),
      true,
    ),
  },
  { ...closed, description: "[sync]: upload committed readings to an HTTP endpoint" },
);

export const ControlSection = Type.Object(
  {
    // Where systemd's RuntimeDirectory=sensord puts it; the unit creates the folder, sensord does not.
    socket: withDefault(
      Type.String({
        description:
          "Unix socket sensorctl talks to (mode 0660: the service's group may use it); a relative " +
          'path resolves against the config file\'s folder; "" disables it',
      }),
      "/run/sensord/sensord.sock",
    ),
  },
  { ...closed, description: "[control]: the control API (sensorctl status, threshold, sync now)" },
);

export const HttpSection = Type.Object(
  {
    // Prometheus' registered default port for exporters of this kind; loopback so nothing is exposed by default.
    listen: withDefault(
      Type.String({
        description: 'host:port serving GET /metrics (Prometheus) and GET /healthz; "" disables it',
      }),
      "127.0.0.1:9464",
    ),
    token_file: Type.Optional(
      Type.String({
        description:
          "File holding the token the device dashboard's data endpoints (/api/*) require (chmod 600); " +
          "required when listen is not a loopback address; a relative path resolves against the config file's folder",
      }),
    ),
    require_token: Type.Optional(
      Type.Boolean({
        description:
          "Require the token on loopback too. Default: true when listen is not loopback or token_file is set",
      }),
    ),
  },
  { ...closed, description: "[http]: metrics, health and the device dashboard over HTTP" },
);

export const MqttSection = Type.Object(
  {
    url: Type.String({
      description:
        "Broker URL: mqtt://, mqtts://, ws:// or wss://, e.g. mqtts://xxxx-ats.iot.ap-northeast-2.amazonaws.com:8883. " +
        "Required when [mqtt] is present",
    }),
    client_id: Type.Optional(
      Type.String({
        minLength: 1,
        description: "MQTT client id (AWS IoT wants the thing name). Default: device.id",
      }),
    ),
    // The original system's topic, so its subscribers keep working.
    topic: withDefault(
      Type.String({ minLength: 1, description: "Topic alert events are published to" }),
      "pi/1",
    ),
    status_topic: withDefault(
      Type.String({
        minLength: 1,
        description: 'Retained "online" / "offline" (last will); {device} is replaced by device.id',
      }),
      "sensord/{device}/status",
    ),
    qos: withDefault(
      Type.Union([Type.Literal(0), Type.Literal(1)], {
        description: "QoS of alert events: 1 (delivered at least once) or 0",
      }),
      1,
    ),
    ca_file: Type.Optional(
      Type.String({
        description:
          "PEM file of the CA that signed the broker's certificate. Default: the system CAs",
      }),
    ),
    cert_file: Type.Optional(
      Type.String({ description: "PEM client certificate (mutual TLS). Default: none" }),
    ),
    key_file: Type.Optional(
      Type.String({
        description:
          "PEM private key of cert_file; readable only by the service user. Default: none",
      }),
    ),
    username: Type.Optional(Type.String({ description: "Username. Default: none" })),
    password_file: Type.Optional(
      Type.String({
        description: "File holding the password (never put it in this file). Default: none",
      }),
    ),
    alpn: Type.Optional(
      Type.String({
        description:
          'TLS ALPN protocol, e.g. "x-amzn-mqtt-ca" for AWS IoT on port 443. Default: none',
      }),
    ),
    publish_readings: withDefault(
      Type.Boolean({
        description:
          "Also publish each reading (QoS 0) to sensord/{device}/readings/<sensor>/<gas>",
      }),
      false,
    ),
    homeassistant: withDefault(
      Type.Boolean({
        description:
          "Publish Home Assistant discovery configs (retained, under homeassistant/); false removes them",
      }),
      false,
    ),
  },
  { ...closed, description: "[mqtt]: relay alert events to an MQTT broker" },
);

/** The sections of the file, in the order the renderer writes them. */
export const configSections = {
  device: Type.Optional(DeviceSection),
  storage: Type.Optional(StorageSection),
  log: Type.Optional(LogSection),
  sensors: Type.Optional(
    Type.Array(SensorEntry, { description: "[[sensors]]: one table per sensor" }),
  ),
  thresholds: Type.Optional(
    Type.Array(ThresholdEntry, {
      description: "[[thresholds]]: alarm rules, added to the preset's",
    }),
  ),
  thresholds_preset: Type.Optional(ThresholdsPresetSection),
  sync: Type.Optional(SyncSection),
  mqtt: Type.Optional(MqttSection),
  control: Type.Optional(ControlSection),
  http: Type.Optional(HttpSection),
} satisfies TProperties;

/**
 * The file's top level as the loader checks it: `[[sensors]]` entries are
 * checked one by one (daemon/config/sensors.ts), each with its driver's keys
 * merged in, so unknown keys are errors per driver.
 */
export const ConfigTopLevel = Type.Object(
  { ...configSections, sensors: Type.Optional(Type.Array(Type.Unknown())) },
  { additionalProperties: false },
);

/**
 * The whole file. For a JSON Schema that also knows each driver's keys, use
 * `configFileSchema(DRIVER_OPTION_SCHEMAS)` (schemas/drivers/options.ts).
 */
export const ConfigFile = Type.Object(configSections, {
  ...closed,
  $id: "sensord.config.v1",
  title: "sensord configuration (sensord.toml)",
});
export type ConfigFile = Static<typeof ConfigFile>;

type Properties<T> = T extends TObject<infer P> ? P : never;
type DecodedValue<T> = T extends { decode: DecodeKind }
  ? number
  : T extends TSchema
    ? Static<T>
    : never;

/**
 * A section as daemon/config/decode.ts hands it to the resolvers: a key with
 * a default is always there, durations and sizes are numbers (ms, bytes).
 * Any other key may be absent: left out, or already reported as wrong.
 */
export type DecodedSection<T extends TObject> = {
  [K in keyof Properties<T> as Properties<T>[K] extends { default: unknown }
    ? K
    : never]: DecodedValue<Properties<T>[K]>;
} & {
  [K in keyof Properties<T> as Properties<T>[K] extends { default: unknown }
    ? never
    : K]?: DecodedValue<Properties<T>[K]>;
};

/** A section's table: the section itself, or one entry of a `[[repeated]]` one. */
type SectionTable<T> = T extends TArray<infer Entry> ? Entry : T;
type Sections = typeof configSections;
export type SectionName = keyof Sections;
export type DecodedSections = {
  [K in SectionName]: SectionTable<Sections[K]> extends infer Table extends TObject
    ? DecodedSection<Table>
    : never;
};

/** What schemas/compile.ts writes down about a key for daemon/config/decode.ts. */
export interface KeyDecoding {
  default?: unknown;
  decode?: DecodeKind;
  min?: string;
  max?: string;
  /** A sensible value, for the message when a size is below `min`. */
  example?: string;
}
export type SensorEntry = Static<typeof SensorEntry>;
export type ThresholdEntry = Static<typeof ThresholdEntry>;

/** The file schema with `[[sensors]]` entries as one alternative per driver (for editors). */
export function configFileSchema(
  drivers: readonly { name: string; optionsSchema: TObject }[],
): TObject {
  const entries = drivers.map((driver) =>
    Type.Object(
      {
        ...sensorCommonProperties,
        driver: Type.Literal(driver.name, { description: `Driver name: ${driver.name}` }),
        ...driverProperties(driver.optionsSchema),
      },
      { ...closed, description: `[[sensors]] with driver = "${driver.name}"` },
    ),
  );
  return Type.Object(
    {
      ...configSections,
      sensors: Type.Optional(
        Type.Array(entries.length > 0 ? Type.Union(entries) : SensorEntry, {
          description: "[[sensors]]: one table per sensor",
        }),
      ),
    },
    { ...closed, $id: "sensord.config.v1", title: "sensord configuration (sensord.toml)" },
  );
}
