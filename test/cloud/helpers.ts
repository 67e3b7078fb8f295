import { gzipSync } from "node:zlib";
import type { Static } from "@sinclair/typebox";
import { afterEach, inject } from "vitest";
import {
  type IngestServer,
  type IngestServerOptions,
  startIngestServer,
} from "../../cloud/index.js";
import type { Batch, BatchReading, OriginalGas } from "../../schemas/batch.js";
import type { Gas } from "../../schemas/vocabulary.js";
import {
  type OpenSearchStandIn,
  startOpenSearchStandIn,
  TEST_CREDENTIALS,
  TEST_REGION,
} from "../support/opensearch/server.js";
import { createTestDatabase } from "../support/postgres-db.js";
import { makeTempDir } from "../support/processes.js";

/** 2026-11-26T10:00:00.000Z */
export const BASE_MS = Date.UTC(2026, 10, 26, 10, 0, 0);
const GAS_CYCLE: readonly Gas[] = ["co", "no2", "c2h5oh", "h2"];

/** Reading number `seq`: one per second from BASE_MS, gases in turn. */
export function reading(seq: number, overrides: Partial<BatchReading> = {}): BatchReading {
  return {
    id: `testprefix-r${seq.toString(36)}`,
    sensor: "gas0",
    gas: GAS_CYCLE[seq % GAS_CYCLE.length] ?? "co",
    value: seq / 100,
    unit: "ppm",
    ts: new Date(BASE_MS + seq * 1000).toISOString(),
    flags: [],
    ...overrides,
  };
}

/** Readings first..first+count-1. */
export function readings(first: number, count: number): BatchReading[] {
  return Array.from({ length: count }, (_, i) => reading(first + i));
}

export function makeBatch(
  batchId: string,
  batchReadings: BatchReading[],
  device: Batch["device"] = { id: "pi-1", group: "2", gps: "37.61, 126.99" },
): Batch {
  return { schema: "sensord.batch.v1", device, batchId, readings: batchReadings };
}

/**
 * The gas document the original system posted per cycle (values with two
 * decimals, as sensord sends them); `overrides` replaces fields of single
 * gases, e.g. `{ co: { value: 26.2 } }` for a deliberately bad one.
 */
export function originalDocument(
  id = "doc-1",
  overrides: Record<string, Record<string, unknown>> = {},
): Record<string, unknown> {
  const createdtime = "2021-09-03 18:14:49";
  const gases: Record<string, Static<typeof OriginalGas>> = {
    co: { sensorid: "0005", sensortype: "8", value: "26.20", createdtime },
    no2: { sensorid: "0006", sensortype: "9", value: "52.00", createdtime },
    c2h5oh: { sensorid: "0007", sensortype: "27", value: "26.11", createdtime },
    h2: { sensorid: "0008", sensortype: "30", value: "400.00", createdtime },
  };
  const document: Record<string, unknown> = {
    id,
    groupid: "2",
    gps: "37.61002501514269, 126.99636868892937",
  };
  for (const [gas, entry] of Object.entries(gases)) document[gas] = { ...entry, ...overrides[gas] };
  return document;
}

export interface HttpResult {
  status: number;
  headers: Headers;
  /** Parsed JSON body (every answer of the service is JSON). */
  json: unknown;
}

export interface PostOptions {
  path?: string;
  headers?: Record<string, string>;
  /** gzip the body and send content-encoding: gzip. */
  gzip?: boolean;
}

/** POSTs `body` (an object is JSON-encoded, a string or Buffer sent as is). */
export async function post(
  baseUrl: string,
  body: unknown,
  options: PostOptions = {},
): Promise<HttpResult> {
  let bytes: Buffer = Buffer.isBuffer(body)
    ? body
    : Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
  const headers: Record<string, string> = {
    "content-type": "application/json",
    ...options.headers,
  };
  if (options.gzip) {
    bytes = gzipSync(bytes);
    headers["content-encoding"] = "gzip";
  }
  const response = await fetch(`${baseUrl}${options.path ?? "/ingest"}`, {
    method: "POST",
    headers,
    body: bytes,
  });
  return { status: response.status, headers: response.headers, json: await response.json() };
}

export async function get(
  baseUrl: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const response = await fetch(`${baseUrl}${path}`, { headers });
  return { status: response.status, headers: response.headers, json: await response.json() };
}

export type StoreKind = "sqlite" | "postgres" | "opensearch";
/** Every store behind the ingest core: query tests run on each, and must get the same answers. */
export const STORE_KINDS: readonly StoreKind[] = ["sqlite", "postgres", "opensearch"];

/** The stand-in's test keys and region, as the AWS SDK's environment provider reads them. */
export const OPENSEARCH_ENV = {
  AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
  AWS_REGION: TEST_REGION,
} as const;

/**
 * Sets the test keys in this process's environment until the returned
 * function restores it: the SDK's default chain then stops at its first
 * link (the environment) and never probes the EC2 metadata service.
 */
export function useOpenSearchEnv(): () => void {
  const saved = Object.keys(OPENSEARCH_ENV).map((name) => [name, process.env[name]] as const);
  Object.assign(process.env, OPENSEARCH_ENV);
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/** The stand-in behind each `opensearch+http://` dbPath, for tests that inject faults or read documents. */
export const standIns = new Map<string, OpenSearchStandIn>();

/**
 * An in-process server on a free port over a fresh database (a SQLite file
 * in a temp dir, a new database in the suite's PostgreSQL cluster, or an
 * OpenSearch stand-in on a free port),
 * closed (and the dir removed) after each test. `reuseDbPath` opens the
 * database of an earlier server again.
 */
export function useIngestServer(
  kind: StoreKind = "sqlite",
): (
  options?: Omit<IngestServerOptions, "dbPath"> & { reuseDbPath?: string },
) => Promise<IngestServer & { dbPath: string }> {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return async ({ reuseDbPath, ...options } = {}) => {
    let dbPath = reuseDbPath;
    let dbPassword: string | null = null;
    if (kind === "opensearch") {
      cleanups.push(useOpenSearchEnv());
      if (dbPath === undefined) {
        const standIn = await startOpenSearchStandIn();
        dbPath = `opensearch+${standIn.url}`;
        const key = dbPath;
        standIns.set(key, standIn);
        cleanups.push(async () => {
          standIns.delete(key);
          await standIn.stop();
        });
      }
    } else if (kind === "postgres") {
      dbPassword = inject("postgres").password;
      dbPath ??= (await createTestDatabase("ingest")).url;
    } else if (dbPath === undefined) {
      const temp = makeTempDir("sensord-ingest-");
      cleanups.push(temp.cleanup);
      dbPath = `${temp.dir}/ingest.db`;
    }
    const server = await startIngestServer({
      listen: "127.0.0.1:0",
      ...options,
      dbPath,
      dbPassword,
    });
    cleanups.push(() => server.close());
    return Object.assign(server, { dbPath });
  };
}
