import type { AwsCredentialIdentity } from "@aws-sdk/types";
import { ERROR_CODES } from "../../../core/errors.js";
import type { CloudStore } from "../types.js";
import { bulkCreate, DEFAULT_RETRY_BUDGET, type RetryBudget } from "./bulk.js";
import { alertDocument, alertId } from "./documents.js";
import { OpenSearchStoreError } from "./errors.js";
import { parseEndpoint, SignedHttp } from "./http.js";
import {
  ALERT_MAPPINGS,
  FLEET_THRESHOLD_MAPPINGS,
  type IndexNames,
  indexNames,
  isValidPrefix,
  REQUEST_MAPPINGS,
  readingsTemplate,
  THRESHOLD_REPORT_MAPPINGS,
} from "./indices.js";
import { OpenSearchIngest } from "./ingest.js";
import { Queries } from "./queries.js";
import { prune } from "./retention.js";
import { openSearchThresholds } from "./thresholds.js";

export { OpenSearchStoreError } from "./errors.js";

export const DEFAULT_INDEX_PREFIX = "sensord";

export interface OpenSearchStoreOptions {
  /** The domain's endpoint: `https://HOST[:PORT]` (`http://` for local use). */
  node: string;
  /** Index names start with it; default "sensord". */
  indexPrefix?: string;
  /** The domain's AWS region (signing scope). */
  region: string;
  /** Static keys; without them the AWS SDK's default chain (the Lambda's role, env, profile). */
  credentials?: AwsCredentialIdentity;
  /** Throttled bulk items are retried within this (default: 100 ms doubling, 3 s in all). */
  retryBudget?: RetryBudget;
  log?: (level: "info" | "warn", message: string) => void;
}

/**
 * The store on an Amazon OpenSearch Service domain (or any OpenSearch 2.x
 * behind SigV4). Opening installs the readings index template and the
 * alerts and idempotency indices (idempotent, so every Lambda cold start
 * may do it); it is also the first request, so a wrong endpoint, missing
 * credentials or an access policy refusing the role fail here, named.
 */
export async function openOpenSearchStore(options: OpenSearchStoreOptions): Promise<CloudStore> {
  const endpoint = parseEndpoint(options.node);
  const prefix = options.indexPrefix ?? DEFAULT_INDEX_PREFIX;
  if (!isValidPrefix(prefix)) {
    throw new OpenSearchStoreError(
      ERROR_CODES.opensearch.url,
      endpoint,
      `index prefix "${prefix}" cannot start an index name: use lowercase letters, digits, "-", "_" or "."`,
    );
  }
  const location = `opensearch ${endpoint} (${prefix}-*)`;
  const log = (level: "info" | "warn", message: string): void =>
    options.log?.(level, `${location}: ${message}`);
  const http = new SignedHttp({ ...options, node: endpoint }, endpoint);
  const names = indexNames(prefix);
  try {
    await prepareIndices(http, names);
  } catch (error) {
    await http.close();
    throw error;
  }
  const budget = options.retryBudget ?? DEFAULT_RETRY_BUDGET;
  const writes = new OpenSearchIngest(http, names, budget);
  const queries = new Queries(http, names);
  let closed = false;
  let inFlight = 0;
  let idle: (() => void) | null = null;
  /** Work started before close() finishes before the client goes. */
  const track = async <T>(work: () => Promise<T>): Promise<T> => {
    if (closed)
      throw new OpenSearchStoreError(
        ERROR_CODES.opensearch.closed,
        endpoint,
        "the store is closed",
      );
    inFlight += 1;
    try {
      return await work();
    } finally {
      inFlight -= 1;
      if (inFlight === 0) idle?.();
    }
  };
  let closing: Promise<void> | null = null;
  const thresholds = openSearchThresholds(http, names);
  return {
    putThresholds: (target, change, ifVersion) =>
      track(() => thresholds.putThresholds(target, change, ifVersion)),
    latestThresholds: (scope, wanted) => track(() => thresholds.latestThresholds(scope, wanted)),
    thresholdHistory: (target) => track(() => thresholds.thresholdHistory(target)),
    reportThresholds: (report) => track(() => thresholds.reportThresholds(report)),
    thresholdReports: (devices) => track(() => thresholds.thresholdReports(devices)),
    kind: "opensearch",
    location,
    replay: (key) => track(() => writes.replay(key)),
    ingest: (unit, key, receivedAt) => track(() => writes.ingest(unit, key, receivedAt)),
    addAlerts: (batch, receivedAt) =>
      track(async () => {
        const items = batch.alerts.map((alert) => ({
          index: names.alerts,
          id: alertId(batch.device.id, alert.id),
          label: alert.id,
          document: alertDocument(batch, alert, receivedAt),
        }));
        const results = items.length === 0 ? [] : await bulkCreate(http, items, "alert", budget);
        // 201 items in the batch's order; a repeated event answers 409 the second time.
        const storedIds = batch.alerts
          .filter((_, index) => results[index] === "created")
          .map((alert) => alert.id);
        return {
          accepted: storedIds.length,
          duplicates: batch.alerts.length - storedIds.length,
          storedIds,
        };
      }),
    stats: async () => writes.stats(),
    readings: (filter) => track(() => queries.readings(filter)),
    series: (query) => track(() => queries.series(query)),
    csv: (query) => queries.csv(query, () => closed),
    devices: (selector, nowMs) => track(() => queries.devices(selector, nowMs)),
    alerts: (filter) => track(() => queries.alerts(filter)),
    prune: (cutoffMs) =>
      track(() => prune(http, names, cutoffMs, (message) => log("info", message))),
    close() {
      closing ??= (async () => {
        closed = true;
        if (inFlight > 0) await new Promise<void>((resolve) => (idle = resolve));
        await http.close();
      })();
      return closing;
    },
  };
}

/**
 * The template for monthly readings indices (PUT replaces it: a newer
 * mapping applies to the next month's index), and the alerts, idempotency
 * and fleet threshold indices, created unless they exist.
 */
async function prepareIndices(http: SignedHttp, names: IndexNames): Promise<void> {
  await http.call(
    { method: "PUT", path: `/_index_template/${names.template}`, body: readingsTemplate(names) },
    "installing the readings index template",
  );
  for (const [index, mappings] of [
    [names.alerts, ALERT_MAPPINGS],
    [names.requests, REQUEST_MAPPINGS],
    [names.fleetThresholds, FLEET_THRESHOLD_MAPPINGS],
    [names.thresholdReports, THRESHOLD_REPORT_MAPPINGS],
  ] as const) {
    const created = await http.call<{ error?: { type?: string } }>(
      {
        method: "PUT",
        path: `/${index}`,
        body: { settings: { number_of_shards: 1 }, mappings },
        expect: [400],
      },
      `creating index ${index}`,
    );
    if (
      created.status === 400 &&
      created.body.error?.type !== "resource_already_exists_exception"
    ) {
      throw new OpenSearchStoreError(
        ERROR_CODES.opensearch.request,
        http.endpoint,
        `creating index ${index}: ${JSON.stringify(created.body.error ?? created.body)}`,
      );
    }
  }
}
