import { accessSync, constants } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import cron from "node-cron";
import { alertsEndpoint } from "../../sync/alerts-endpoint.js";
import { describeError } from "../errors.js";
import { asString, asTable, type Problems } from "./problems.js";
import { durationInRange } from "./sections.js";
import { parseSize, SIZE_HINT } from "./size.js";
import type { SyncConfig } from "./types.js";

export const SYNC_DEFAULTS = {
  format: "batch",
  index: "gasdetect",
  schedule: "* * * * *",
  batchMaxReadings: 1000,
  batchMaxBytes: 256 * 1024,
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
  return {
    endpoint,
    format,
    index: asString(table.index) ?? SYNC_DEFAULTS.index,
    schedule,
    intervalMs: durationInRange(table.interval, "sync.interval", { min: 0, fallback: 0 }, problems),
    apiKeyFile:
      keyFile === undefined ? null : isAbsolute(keyFile) ? keyFile : resolve(baseDir, keyFile),
    batchMaxReadings:
      typeof table.batch_max_readings === "number"
        ? table.batch_max_readings
        : SYNC_DEFAULTS.batchMaxReadings,
    batchMaxBytes: resolveBatchBytes(table.batch_max_bytes, problems),
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

function resolveBatchBytes(raw: unknown, problems: Problems): number {
  const text = asString(raw);
  if (text === undefined) return SYNC_DEFAULTS.batchMaxBytes;
  const bytes = parseSize(text);
  if (bytes === null || bytes < 1024) {
    problems.add("sync.batch_max_bytes", `"${text}" is not a size of at least 1KiB; ${SIZE_HINT}`);
    return SYNC_DEFAULTS.batchMaxBytes;
  }
  return bytes;
}
