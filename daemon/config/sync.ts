import { accessSync, constants } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { nodeCron } from "../../core/cron.js";
import { describeError } from "../../core/errors.js";
import { formatSize } from "../../core/size.js";
import type { DecodedSections } from "../../schemas/config.js";
import type { SyncConfig } from "../../schemas/config-types.js";
import { alertsEndpoint } from "./alerts-endpoint.js";
import { decodeSection } from "./decode.js";
import { fleetEndpoint } from "./fleet-endpoint.js";
import { asTable, type Problems } from "./problems.js";

/** `[sync]` -> SyncConfig, or null when the section is absent (readings stay on the device). */
export function resolveSync(raw: unknown, baseDir: string, problems: Problems): SyncConfig | null {
  const table = asTable(raw);
  if (table === undefined) return null;
  const sync = decodeSection("sync", table, problems);
  const endpoint = sync.endpoint ?? "";
  if (sync.endpoint !== undefined && !isHttpUrl(endpoint)) {
    problems.add("sync.endpoint", `"${endpoint}" is not an http:// or https:// URL`);
  }
  const alertsWritten = sync.alerts_endpoint;
  if (alertsWritten !== undefined && alertsWritten !== "" && !isHttpUrl(alertsWritten)) {
    problems.add(
      "sync.alerts_endpoint",
      `"${alertsWritten}" is not an http:// or https:// URL; set the URL alert events are POSTed to, ` +
        'or "" to not upload them',
    );
  }
  if (!nodeCron().validate(sync.schedule)) {
    problems.add(
      "sync.schedule",
      `"${sync.schedule}" is not a cron expression; use five fields (minute hour day month weekday), e.g. "*/5 * * * *"`,
    );
  }
  const keyFile = sync.api_key_file;
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
    format: sync.format,
    index: sync.index,
    schedule: sync.schedule,
    intervalMs: sync.interval,
    apiKeyFile: keyPath,
    batchMaxReadings: sync.batch_max_readings,
    batchMaxBytes: sync.batch_max_bytes,
    backlogBatchMaxReadings: backlogReadings(table, sync, problems),
    backlogBatchMaxBytes: backlogBytes(table, sync, problems),
    maxRate: sync.max_rate,
    timeoutMs: sync.timeout,
    compress: sync.compress,
    alertsEndpoint: alertsEndpoint({ endpoint, format: sync.format }, alertsWritten),
    fleetEndpoint: sync.fleet_config ? fleetEndpoint(endpoint) : null,
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

type DecodedSync = DecodedSections["sync"];

/**
 * Never below batch_max_readings: a backlog batch is a live batch or bigger.
 * A batch_max_readings written out is taken as the endpoint's limit, so the
 * backlog follows it unless told otherwise.
 */
function backlogReadings(
  table: Record<string, unknown>,
  sync: DecodedSync,
  problems: Problems,
): number {
  const live = sync.batch_max_readings;
  if (table.backlog_batch_max_readings === undefined) {
    return table.batch_max_readings === undefined ? sync.backlog_batch_max_readings : live;
  }
  if (sync.backlog_batch_max_readings < live) {
    problems.add(
      "sync.backlog_batch_max_readings",
      `${sync.backlog_batch_max_readings} is below batch_max_readings (${live}); set it to at least ${live}, or remove it`,
    );
    return live;
  }
  return sync.backlog_batch_max_readings;
}

/**
 * As with readings: 2 MiB batches to an endpoint that takes 100 KiB would
 * each be refused (413) and split five times over.
 */
function backlogBytes(
  table: Record<string, unknown>,
  sync: DecodedSync,
  problems: Problems,
): number {
  const live = sync.batch_max_bytes;
  if (table.backlog_batch_max_bytes === undefined) {
    return table.batch_max_bytes === undefined ? sync.backlog_batch_max_bytes : live;
  }
  if (sync.backlog_batch_max_bytes < live) {
    problems.add(
      "sync.backlog_batch_max_bytes",
      `"${String(table.backlog_batch_max_bytes)}" is below batch_max_bytes (${formatSize(live)}); set it to at least that, or remove it`,
    );
    return live;
  }
  return sync.backlog_batch_max_bytes;
}
