import pg from "pg";
import { describeError, ERROR_CODES } from "../../../core/errors.js";
import type { CloudStore } from "../types.js";
import { insertAlerts, selectAlerts } from "./alerts.js";
import { type PostgresStoreOptions, planConnection } from "./connection.js";
import { CsvPages } from "./csv.js";
import { Database } from "./database.js";
import { PostgresStoreError, redact } from "./errors.js";
import { PostgresIngest } from "./ingest.js";
import { migrate } from "./migrations.js";
import { monthOf, Partitions } from "./partitions.js";
import { selectDevices, selectReadings, selectSeriesLines } from "./queries.js";
import { prune } from "./retention.js";
import { postgresThresholds } from "./thresholds.js";

export type { PostgresStoreOptions } from "./connection.js";
export { PostgresStoreError } from "./errors.js";
export { SCHEMA_VERSION } from "./migrations.js";

export interface PostgresStore extends CloudStore {
  /** The pool's connections: open, idle, and callers waiting for one (for metrics and tests). */
  connections(): { total: number; idle: number; waiting: number };
}

/**
 * The networked store: several sensord-ingest processes (or hosts) may
 * share one database. Opening connects, migrates the schema (once, under
 * an advisory lock) and makes sure this month's and next month's readings
 * partitions exist. Connection failures are PostgresStoreErrors naming the
 * fix, never carrying the password.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const { config, target } = planConnection(options);
  const { location } = target;
  const log = (level: "info" | "warn", message: string): void =>
    options.log?.(level, `postgres ${location}: ${redact(message, target.password)}`);
  const pool = new pg.Pool(config);
  // A connection the server or network drops emits 'error' on its client, in
  // use or idle; with no listener that would crash the process. Logged here
  // once per client; the query it was running fails, and the pool discards it.
  pool.on("connect", (client) => {
    client.on("error", (error) => log("warn", `connection lost: ${describeError(error)}`));
  });
  // pg-pool re-emits an idle client's error here too: already logged above.
  pool.on("error", () => {});
  const db = new Database(pool, target);
  const partitions = new Partitions(location, (message) => log("info", message));
  try {
    await db.use(async (client) => {
      await migrate(client, location, (message) => log("info", message));
      const month = monthOf(Date.now());
      await partitions.ensure(client, [month, month + 1]);
    });
  } catch (error) {
    await pool.end().catch(() => {});
    if (error instanceof PostgresStoreError) throw error;
    throw new PostgresStoreError(
      ERROR_CODES.postgres.open,
      location,
      `cannot prepare the database: ${redact(describeError(error), target.password)}`,
      { cause: error },
    );
  }

  const writes = new PostgresIngest(db, partitions);
  const csvSessions = new Set<CsvPages>();
  let closing: Promise<void> | null = null;
  return {
    ...postgresThresholds(db),
    kind: "postgres",
    location,
    replay: (key) => writes.replay(key),
    ingest: (unit, key, receivedAt) => writes.ingest(unit, key, receivedAt),
    addAlerts: (batch, receivedAt) => db.use((client) => insertAlerts(client, batch, receivedAt)),
    stats: async () => writes.stats(),
    readings: (filter) => db.use((client) => selectReadings(client, filter)),
    series: (query) => db.use((client) => selectSeriesLines(client, query)),
    csv: (query) => ({ [Symbol.asyncIterator]: () => new CsvPages(db, query, csvSessions) }),
    devices: (selector, nowMs) => db.use((client) => selectDevices(client, selector, nowMs)),
    alerts: (filter) => db.use((client) => selectAlerts(client, filter)),
    connections: () => ({
      total: pool.totalCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
    }),
    prune: (cutoffMs) => prune(db, partitions, cutoffMs, (message) => log("info", message)),
    close() {
      closing ??= (async () => {
        await db.quiesce();
        // A download whose consumer is between pages is not work in flight: it ends here.
        await Promise.all([...csvSessions].map((session) => session.abort()));
        await pool.end();
      })();
      return closing;
    },
  };
}
