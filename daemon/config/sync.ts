import { accessSync, constants } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import cron from "node-cron";
import { describeError } from "../../core/errors.js";
import { formatSize, parseSize, SIZE_HINT } from "../../core/size.js";
import type { SyncConfig } from "../../schemas/config-types.js";
import { alertsEndpoint } from "./alerts-endpoint.js";
import { asString, asTable, type Problems } from "./problems.js";
import { durationInRange } from "./sections.js";

export const SYNC_DEFAULTS = {
  format: "batch",
  index: "gasdetect",
  schedule: "* * * * *",
  batchMaxReadings: 1000,
  batchMaxBytes: 256 * 1024,
  /**
   * A backlog goes in bigger requests than live data: 2.4x fewer requests
   * (per-request costs are the endpoint's too) for the same drain rate. Paired
   * runs of the sensord binary (300k backlog to the minimal receiver, 2-core VM,
   * median of 3): 1000 and 2500 readings gave the same rate within the noise
   * (125k-195k vs 137k-149k/s), 5000 and 10000 were slower (106k, 123k/s) and
   * took more CPU and 25-60 MiB more peak RSS. 1 MiB is not binding at 2500
   * readings and an eighth of sensord-ingest's 8 MiB body limit; a smaller
   * endpoint answers 413 and the batch is split.
   */
  backlogBatchMaxReadings: 2500,
  backlogBatchMaxBytes: 1024 * 1024,
  maxRate: 20_000,
  timeoutMs: 15_000,
} as const;

/** `[sync]` -> SyncConfig, or null when the section is absent (readings stay on the device). */
export function resolveSync(raw: unknown, baseDir: string, problems: Problems): SyncConfig | null {
  const table = asTable(raw);
  if (table === undefined) return null;
  const endpoint = asString(table.endpoint) ?? "";
  if (table.endpoint === undefined) {
    problems.add(
      "sync.endpoint",
      'missing; add endpoint = "https://..." (the URL readings are POSTed to)',
    );
  } else if (!isHttpUrl(endpoint)) {
    problems.add("sync.endpoint", `"${endpoint}" is not an http:// or https:// URL`);
  }
  const alertsWritten = asString(table.alerts_endpoint);
  if (alertsWritten !== undefined && alertsWritten !== "" && !isHttpUrl(alertsWritten)) {
    problems.add(
      "sync.alerts_endpoint",
      `"${alertsWritten}" is not an http:// or https:// URL; set the URL alert events are POSTed to, ` +
        'or "" to not upload them',
    );
  }
  const format = table.format === "original" ? "original" : "batch";
  const schedule = asString(table.schedule) ?? SYNC_DEFAULTS.schedule;
  if (!cron.validate(schedule)) {
    problems.add(
      "sync.schedule",
      `"${schedule}" is not a cron expression; use five fields (minute hour day month weekday), e.g. "*/5 * * * *"`,
    );
  }
  const keyFile = asString(table.api_key_file);
  const keyPath =
    keyFile === undefined ? null : isAbsolute(keyFile) ? keyFile : resolve(baseDir, keyFile);
  if (keyPath !== null) {
    // Checked here so `sensorctl config check` reports it too; the daemon reads the key itself.
    try {
      accessSync(keyPath, constants.R_OK);
    } catch (error) {
      problems.add(
        "sync.api_key_file",
        `cannot read ${keyPath} (${describeError(error)}); create it with the key on its first line, ` +
          "readable only by the service user (chmod 600)",
      );
    }
  }
  const batchMaxReadings =
    typeof table.batch_max_readings === "number"
      ? table.batch_max_readings
      : SYNC_DEFAULTS.batchMaxReadings;
  const batchMaxBytes = resolveBatchBytes(table.batch_max_bytes, "sync.batch_max_bytes", problems);
  return {
    endpoint,
    format,
    index: asString(table.index) ?? SYNC_DEFAULTS.index,
    schedule,
    intervalMs: durationInRange(table.interval, "sync.interval", { min: 0, fallback: 0 }, problems),
    apiKeyFile:
      keyFile === undefined ? null : isAbsolute(keyFile) ? keyFile : resolve(baseDir, keyFile),
    batchMaxReadings,
    batchMaxBytes,
    backlogBatchMaxReadings: resolveBacklogReadings(
      table.backlog_batch_max_readings,
      table.batch_max_readings === undefined ? null : batchMaxReadings,
      problems,
    ),
    backlogBatchMaxBytes: resolveBacklogBytes(
      table.backlog_batch_max_bytes,
      table.batch_max_bytes === undefined ? null : batchMaxBytes,
      problems,
    ),
    maxRate: typeof table.max_rate === "number" ? table.max_rate : SYNC_DEFAULTS.maxRate,
    timeoutMs: durationInRange(
      table.timeout,
      "sync.timeout",
      { min: 100, max: 600_000, fallback: SYNC_DEFAULTS.timeoutMs },
      problems,
    ),
    compress: table.compress !== false,
    alertsEndpoint: alertsEndpoint({ endpoint, format }, alertsWritten),
  };
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

function resolveBatchBytes(raw: unknown, key: string, problems: Problems): number {
  const text = asString(raw);
  if (text === undefined) return SYNC_DEFAULTS.batchMaxBytes;
  const bytes = parseSize(text);
  if (bytes === null || bytes < 1024) {
    problems.add(key, `"${text}" is not a size of at least 1KiB; ${SIZE_HINT}`);
    return SYNC_DEFAULTS.batchMaxBytes;
  }
  return bytes;
}

/**
 * Never below batch_max_readings: a backlog batch is a live batch or bigger.
 * As with bytes, a batch_max_readings written out is taken as the endpoint's
 * limit and the backlog follows it unless told otherwise.
 */
function resolveBacklogReadings(
  raw: unknown,
  writtenLive: number | null,
  problems: Problems,
): number {
  if (typeof raw !== "number") return writtenLive ?? SYNC_DEFAULTS.backlogBatchMaxReadings;
  const live = writtenLive ?? SYNC_DEFAULTS.batchMaxReadings;
  if (raw < live) {
    problems.add(
      "sync.backlog_batch_max_readings",
      `${raw} is below batch_max_readings (${live}); set it to at least ${live}, or remove it`,
    );
    return live;
  }
  return raw;
}

/**
 * A batch_max_bytes written out is taken as the endpoint's limit, so the
 * backlog follows it unless told otherwise: 2 MiB batches to an endpoint that
 * takes 100 KiB would each be refused (413) and split five times over.
 */
function resolveBacklogBytes(raw: unknown, writtenLive: number | null, problems: Problems): number {
  if (raw === undefined) return writtenLive ?? SYNC_DEFAULTS.backlogBatchMaxBytes;
  const live = writtenLive ?? SYNC_DEFAULTS.batchMaxBytes;
  const bytes = resolveBatchBytes(raw, "sync.backlog_batch_max_bytes", problems);
  if (bytes < live) {
    problems.add(
      "sync.backlog_batch_max_bytes",
      `"${asString(raw)}" is below batch_max_bytes (${formatSize(live)}); set it to at least that, or remove it`,
    );
    return live;
  }
  return bytes;
}
