/**
 * Every error code sensord, sensorctl and sensord-ingest write, grouped by the
 * part that writes them. The strings are a contract: logs, the status report
 * and the ingest's JSON answers carry them, and the module READMEs list them,
 * so a value never changes; a code is added here or not at all.
 */
export const ERROR_CODES = {
  config: {
    invalid: "SENSORD_CONFIG_INVALID",
  },
  control: {
    inUse: "SENSORD_CONTROL_IN_USE",
    notSocket: "SENSORD_CONTROL_NOT_SOCKET",
    stale: "SENSORD_CONTROL_STALE",
  },
  /** The daemon's SQLite database. */
  db: {
    config: "SENSORD_DB_CONFIG",
    corrupt: "SENSORD_DB_CORRUPT",
    empty: "SENSORD_DB_EMPTY",
    invalid: "SENSORD_DB_INVALID",
    missing: "SENSORD_DB_MISSING",
    old: "SENSORD_DB_OLD",
    open: "SENSORD_DB_OPEN",
    query: "SENSORD_DB_QUERY",
    tooNew: "SENSORD_DB_TOO_NEW",
    unknownValue: "SENSORD_DB_UNKNOWN_VALUE",
    write: "SENSORD_DB_WRITE",
  },
  /** Sensor reads and opens, whatever the bus. */
  driver: {
    /** A read threw something that is not a DriverError. */
    failed: "SENSORD_DRIVER_FAILED",
    /** An open threw something that is not a DriverError. */
    openFailed: "SENSORD_OPEN_FAILED",
    notOpen: "SENSORD_DRIVER_NOT_OPEN",
    /** A reply arrived but is not a valid frame: the link works, the reading is lost. */
    frameInvalid: "SENSORD_FRAME_INVALID",
    replayUnreadable: "SENSORD_REPLAY_UNREADABLE",
    sensorFault: "SENSORD_SENSOR_FAULT",
    /** No usable R0 for a MiCS-6814 element: neither the board nor the config has one. */
    micsR0Missing: "SENSORD_MICS_R0_MISSING",
    micsR0Invalid: "SENSORD_MICS_R0_INVALID",
  },
  i2c: {
    /** /dev/i2c-N does not exist (I2C disabled, wrong bus number). */
    busMissing: "SENSORD_I2C_BUS_MISSING",
    /** /dev/i2c-N exists but the service user may not open it. */
    permission: "SENSORD_I2C_PERMISSION",
    /** Nobody acknowledged the address (EREMOTEIO, ENXIO, or EIO from the adapter). */
    nack: "SENSORD_I2C_NACK",
    /** The kernel (ETIMEDOUT) or our own deadline gave up on a transfer. */
    timeout: "SENSORD_I2C_TIMEOUT",
    /** Any other failure of a transfer. */
    io: "SENSORD_I2C_IO",
  },
  serial: {
    notFound: "SENSORD_SERIAL_NOT_FOUND",
    permission: "SENSORD_SERIAL_PERMISSION",
    busy: "SENSORD_SERIAL_BUSY",
    openFailed: "SENSORD_SERIAL_OPEN_FAILED",
    io: "SENSORD_SERIAL_IO",
    disconnected: "SENSORD_SERIAL_DISCONNECTED",
    closed: "SENSORD_SERIAL_CLOSED",
    silent: "SENSORD_SERIAL_SILENT",
  },
  /**
   * An upload that did not get a complete answer. The sync policy branches on
   * these: `unreachable` means the request never left the Pi, so probing again
   * soon costs the server nothing; the others may have reached it.
   */
  upload: {
    unreachable: "SENSORD_UPLOAD_UNREACHABLE",
    timeout: "SENSORD_UPLOAD_TIMEOUT",
    reset: "SENSORD_UPLOAD_RESET",
    aborted: "SENSORD_UPLOAD_ABORTED",
    network: "SENSORD_UPLOAD_NETWORK",
  },
  mqtt: {
    file: "SENSORD_MQTT_FILE",
  },
  /** The `code` of sensord-ingest's JSON error answers (cloud/README.md). */
  ingest: {
    answerTooLarge: "INGEST_ANSWER_TOO_LARGE",
    badGzip: "INGEST_BAD_GZIP",
    badHeader: "INGEST_BAD_HEADER",
    badJson: "INGEST_BAD_JSON",
    badParam: "INGEST_BAD_PARAM",
    badTarget: "INGEST_BAD_TARGET",
    busy: "INGEST_BUSY",
    contentType: "INGEST_CONTENT_TYPE",
    encoding: "INGEST_ENCODING",
    hostNotAllowed: "INGEST_HOST_NOT_ALLOWED",
    internal: "INGEST_INTERNAL",
    method: "INGEST_METHOD",
    missingHeader: "INGEST_MISSING_HEADER",
    notFound: "INGEST_NOT_FOUND",
    /** `If-Match` named a threshold set that is no longer the current one. */
    preconditionFailed: "INGEST_PRECONDITION_FAILED",
    schema: "INGEST_SCHEMA",
    storeRejected: "INGEST_STORE_REJECTED",
    storeUnavailable: "INGEST_STORE_UNAVAILABLE",
    /** A desired threshold set refused whole: its schema or fleetRuleProblems (schemas/fleet-rules.ts). */
    thresholdsInvalid: "INGEST_THRESHOLDS_INVALID",
    /** No threshold set was ever stored for the group or device. */
    thresholdsNotSet: "INGEST_THRESHOLDS_NOT_SET",
    tooLarge: "INGEST_TOO_LARGE",
    tooManyLines: "INGEST_TOO_MANY_LINES",
    unauthorized: "INGEST_UNAUTHORIZED",
  },
  /** sensord-ingest's own SQLite store. */
  ingestDb: {
    open: "INGEST_DB_OPEN",
    tooNew: "INGEST_DB_TOO_NEW",
    foreign: "INGEST_DB_FOREIGN",
  },
  /** The PostgreSQL store (cloud/store/postgres/README.md). */
  postgres: {
    auth: "INGEST_PG_AUTH",
    noDatabase: "INGEST_PG_NO_DATABASE",
    unreachable: "INGEST_PG_UNREACHABLE",
    connect: "INGEST_PG_CONNECT",
    url: "INGEST_PG_URL",
    version: "INGEST_PG_VERSION",
    privilege: "INGEST_PG_PRIVILEGE",
    foreign: "INGEST_PG_FOREIGN",
    tooNew: "INGEST_PG_TOO_NEW",
    open: "INGEST_PG_OPEN",
    leftover: "INGEST_PG_LEFTOVER",
    closed: "INGEST_PG_CLOSED",
    /** An idempotency key conflicted but its answer kept vanishing. */
    conflict: "INGEST_PG_CONFLICT",
    /** A series row was neither inserted nor found (should not happen). */
    series: "INGEST_PG_SERIES",
  },
  /** The OpenSearch store (cloud/store/opensearch/README.md). */
  opensearch: {
    url: "INGEST_OS_URL",
    clientMissing: "INGEST_OS_CLIENT_MISSING",
    region: "INGEST_OS_REGION",
    credentials: "INGEST_OS_CREDENTIALS",
    unreachable: "INGEST_OS_UNREACHABLE",
    timeout: "INGEST_OS_TIMEOUT",
    forbidden: "INGEST_OS_FORBIDDEN",
    request: "INGEST_OS_REQUEST",
    closed: "INGEST_OS_CLOSED",
  },
  /** The AWS deployment of the ingest (Lambda settings, the stack's files, index policies). */
  aws: {
    lambdaConfig: "INGEST_CONFIG",
    ismPolicy: "AWS_ISM_POLICY",
    dashboardFiles: "AWS_DASHBOARD_FILES",
  },
} as const;

type CodeGroups = typeof ERROR_CODES;
/** The codes of one group, e.g. `CodeOf<"upload">` = "SENSORD_UPLOAD_UNREACHABLE" | ... */
export type CodeOf<Group extends keyof CodeGroups> = CodeGroups[Group][keyof CodeGroups[Group]];
/** Any code in ERROR_CODES: a misspelt code fails to compile. */
export type ErrorCode = { [Group in keyof CodeGroups]: CodeOf<Group> }[keyof CodeGroups];

/**
 * One base class, one subclass per failure, each with a stable `code` (the
 * undici pattern): callers branch on the class or the code, never on message text.
 */
export class SensordError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Exit code for configuration errors (sysexits.h EX_CONFIG). */
export const EXIT_CONFIG = 78;
/** Exit code for command-line usage errors. */
export const EXIT_USAGE = 2;

export interface ConfigProblem {
  /** Dotted key path, e.g. `sensors[0].interval`. */
  key: string;
  /** What is wrong and how to fix it. */
  message: string;
}

/** The config file (or a value in it) is unusable. Names the file, every bad key and the fix. */
export class ConfigError extends SensordError {
  readonly file: string | null;
  readonly problems: ConfigProblem[];
  constructor(file: string | null, problems: ConfigProblem[]) {
    const where = file ?? "built-in defaults";
    const lines = problems.map((problem) => `  ${problem.key}: ${problem.message}`);
    super(ERROR_CODES.config.invalid, `invalid configuration in ${where}:\n${lines.join("\n")}`);
    this.file = file;
    this.problems = problems;
  }
}

/**
 * A sensor driver failed to open or read. The sampler decides from the code
 * what to do next (daemon/sampler/running-sensor.ts): it reads again after
 * SENSORD_FRAME_INVALID and closes, backs off and reopens after anything else,
 * so a driver never has to say whether trying again can help.
 */
export class DriverError extends SensordError {
  readonly sensor: string;
  constructor(code: ErrorCode, sensor: string, message: string, options?: { cause?: unknown }) {
    super(code, `sensor ${sensor}: ${message}`, options);
    this.sensor = sensor;
  }
}

/** The database cannot be opened or written. */
export class StoreError extends SensordError {
  readonly path: string;
  constructor(code: ErrorCode, path: string, message: string, options?: { cause?: unknown }) {
    super(code, `database ${path}: ${message}`, options);
    this.path = path;
  }
}

/** Text of any thrown value, without casting. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
