import type pg from "pg";
import { MAX_AHEAD_MS } from "../limits.js";
import type { RetentionOutcome } from "../types.js";
import type { Database } from "./database.js";
import { type Month, monthOfPartition, monthStart, type Partitions } from "./partitions.js";
import { LOCKS, msToTs, tsToMs } from "./sql.js";

interface PartitionRow {
  name: string;
  /** Epoch ms of the bounds, null for a partition without plain range bounds (not one of ours). */
  lower: number | null;
  upper: number | null;
  pending: boolean;
}

/**
 * Every attached readings partition with its bounds, parsed by the server
 * from its own rendering of them (whatever the session's DateStyle).
 */
const PARTITIONS = `SELECT c.relname AS name, i.inhdetachpending AS pending,
    ${tsToMs("(regexp_match(b.bound, 'FROM \\(''([^'']+)''\\)'))[1]::timestamptz")} AS lower,
    ${tsToMs("(regexp_match(b.bound, 'TO \\(''([^'']+)''\\)'))[1]::timestamptz")} AS upper
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  CROSS JOIN LATERAL (SELECT pg_get_expr(c.relpartbound, c.oid) AS bound) b
  WHERE i.inhparent = 'readings'::regclass`;

/** Tables named like a partition but attached to nothing: left by a pass that stopped between detach and drop. */
const LEFTOVERS = `SELECT c.relname AS name FROM pg_class c
  WHERE c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = 'readings'::regclass)
    AND c.relkind = 'r' AND NOT c.relispartition AND c.relname ~ '^readings_y[0-9]{4}m[0-9]{2}$'`;

/**
 * Retention: whole months of readings go at once (DETACH, count, DROP: no
 * row-by-row DELETE, no bloat left for vacuum), so readings before the
 * cutoff stay until their whole month is past it. One process prunes at a
 * time (pg_try_advisory_lock; the others skip: the work is done for them).
 *
 * DETACH PARTITION CONCURRENTLY takes no lock that blocks ingest; it waits
 * for queries still reading the month (a long CSV export) instead. The
 * partition lock is held meanwhile, so no process recreates the month
 * under the same name halfway.
 */
export async function prune(
  db: Database,
  partitions: Partitions,
  cutoffMs: number,
  log: (message: string) => void,
): Promise<RetentionOutcome> {
  return db.use(async (client) => {
    const locked = await client.query<{ ok: boolean }>(
      "SELECT pg_try_advisory_lock($1::bigint) AS ok",
      [LOCKS.prune],
    );
    if (locked.rows[0]?.ok !== true) {
      log("retention: another process is pruning; skipped");
      return { readings: 0, alerts: 0, batches: 0 };
    }
    try {
      const readings = await dropMonths(client, partitions, cutoffMs, log);
      const alerts = await client.query(`DELETE FROM alerts WHERE ts < ${msToTs("$1")}`, [
        cutoffMs,
      ]);
      const batches = await client.query(
        `DELETE FROM batches WHERE received_at < ${msToTs("$1")}`,
        [(await oldestKeptMs(client, cutoffMs)) - MAX_AHEAD_MS],
      );
      return { readings, alerts: alerts.rowCount ?? 0, batches: batches.rowCount ?? 0 };
    } finally {
      await client.query("SELECT pg_advisory_unlock($1::bigint)", [LOCKS.prune]);
    }
  });
}

/** Drops every month whose end is at or before the cutoff; returns the rows they held. */
async function dropMonths(
  client: pg.ClientBase,
  partitions: Partitions,
  cutoffMs: number,
  log: (message: string) => void,
): Promise<number> {
  let rows = 0;
  const attached = (await client.query<PartitionRow>(PARTITIONS)).rows;
  const leftovers = (await client.query<{ name: string }>(LEFTOVERS)).rows;
  const doomed: Array<{ name: string; attached: boolean; pending: boolean }> = [];
  for (const partition of attached) {
    if (partition.upper !== null && partition.upper <= cutoffMs) {
      doomed.push({ name: partition.name, attached: true, pending: partition.pending });
    }
  }
  for (const { name } of leftovers) {
    const month = monthOfPartition(name);
    if (month !== null && monthStart(month + 1) <= cutoffMs) {
      doomed.push({ name, attached: false, pending: false });
    }
  }
  const dropped: Month[] = [];
  for (const partition of doomed) {
    const table = client.escapeIdentifier(partition.name);
    await client.query("SELECT pg_advisory_lock($1::bigint)", [LOCKS.partitions]);
    try {
      if (partition.pending) {
        // A pass stopped between the two halves of DETACH CONCURRENTLY.
        await client.query(`ALTER TABLE readings DETACH PARTITION ${table} FINALIZE`);
      } else if (partition.attached) {
        await client.query(`ALTER TABLE readings DETACH PARTITION ${table} CONCURRENTLY`);
      }
      // Detached, the table receives nothing more: the count is what the drop removes.
      const count = await client.query<{ n: number }>(`SELECT count(*)::float8 AS n FROM ${table}`);
      await client.query(`DROP TABLE ${table}`);
      const n = count.rows[0]?.n ?? 0;
      rows += n;
      log(`retention: dropped ${partition.name} (${n} readings)`);
      const month = monthOfPartition(partition.name);
      if (month !== null) dropped.push(month);
    } finally {
      await client.query("SELECT pg_advisory_unlock($1::bigint)", [LOCKS.partitions]);
    }
  }
  partitions.forget(dropped);
  return rows;
}

/**
 * Where kept readings may begin: the earliest remaining month's start, if
 * before the cutoff. A request's record (its gps and the idempotency
 * answer) is kept while readings it delivered may still be stored, less the
 * day a reading may be ahead of its arrival, as the SQLite store does.
 */
async function oldestKeptMs(client: pg.ClientBase, cutoffMs: number): Promise<number> {
  const result = await client.query<{ lower: number | null }>(
    `SELECT min(p.lower) AS lower FROM (${PARTITIONS}) p WHERE NOT p.pending`,
  );
  const lower = result.rows[0]?.lower ?? null;
  return lower === null ? cutoffMs : Math.min(cutoffMs, lower);
}
