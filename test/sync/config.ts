import type { SyncConfig } from "../../schemas/config-types.js";

/**
 * `[sync]` as the worker tests run it: batch format, a cron schedule that never
 * fires (tests call trigger()), no rate cap, a short timeout, alerts off,
 * backlog batches no bigger than live ones.
 */
export function testSyncConfig(endpoint: string, overrides: Partial<SyncConfig> = {}): SyncConfig {
  return {
    endpoint,
    format: "batch",
    index: "gasdetect",
    schedule: "0 0 1 1 *",
    intervalMs: 0,
    apiKeyFile: null,
    batchMaxReadings: 1000,
    batchMaxBytes: 256 * 1024,
    // As the live limits (overridden or not), so tests about order and
    // failures count batches of one size; tests of the backlog's own limits set these.
    backlogBatchMaxReadings: overrides.batchMaxReadings ?? 1000,
    backlogBatchMaxBytes: overrides.batchMaxBytes ?? 256 * 1024,
    maxRate: 1_000_000,
    timeoutMs: 2000,
    compress: true,
    alertsEndpoint: null,
    fleetEndpoint: null,
    ...overrides,
  };
}
