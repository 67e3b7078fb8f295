import type pg from "pg";
import { ERROR_CODES } from "../../../core/errors.js";
import type { IngestAnswer, IngestOutcome, IngestRow, IngestStats, IngestUnit } from "../types.js";
import { type Database, inTransaction } from "./database.js";
import { PostgresStoreError } from "./errors.js";
import { isMissingPartition, type Month, monthOf, type Partitions } from "./partitions.js";
import { msToTs, prepared } from "./sql.js";

/** Far more channels than a fleet has; past it the cache starts over (a client inventing names cannot grow memory without end). */
const MAX_CACHED_SERIES = 100_000;

/** Attempts when the idempotency row seen as a conflict is gone before it could be read. */
const MAX_KEY_ATTEMPTS = 3;

const SELECT_ANSWER = "SELECT status, body FROM batches WHERE key = $1";

/**
 * ON CONFLICT DO NOTHING on the key: with the key committed by anyone, no
 * row comes back; with it inserted by a transaction still running, this
 * waits for that one to commit (no row) or roll back (inserted here). So
 * exactly one request per key is processed, across every process.
 */
const INSERT_BATCH = `INSERT INTO batches (key, batch_id, format, index_name, gps, received_at, status, body, accepted, duplicates)
  VALUES ($1, $2, $3, $4, $5, ${msToTs("$6")}, 200, '', 0, 0)
  ON CONFLICT (key) DO NOTHING RETURNING seq`;

const FINISH_BATCH = "UPDATE batches SET body = $1, accepted = $2, duplicates = $3 WHERE seq = $4";

/**
 * One statement per request whatever its size: arrays in, unnest() into
 * rows. ON CONFLICT DO NOTHING skips (ts, id) pairs already stored, also
 * those earlier in the same request, so rowCount is exactly what was new.
 */
const INSERT_READINGS = `INSERT INTO readings (ts, value, batch, series, id, flags)
  SELECT ${msToTs("t.ms")}, t.value, $6::bigint, t.series, t.id, t.flags
  FROM unnest($1::float8[], $2::float8[], $3::int4[], $4::text[], $5::text[]) AS t(ms, value, series, id, flags)
  ON CONFLICT DO NOTHING`;

const INSERT_SERIES = `INSERT INTO series (device, group_id, sensor, gas, unit, sensor_id, sensor_type)
  SELECT $1, $2, t.sensor, t.gas, t.unit, t.sensor_id, t.sensor_type
  FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS t(sensor, gas, unit, sensor_id, sensor_type)
  ON CONFLICT DO NOTHING`;

const SELECT_SERIES = `SELECT s.id, s.sensor, s.gas, s.unit, s.sensor_id, s.sensor_type FROM series s
  WHERE s.device = $1 AND s.group_id = $2
    AND (s.sensor, s.gas, s.unit, s.sensor_id, s.sensor_type) IN
      (SELECT * FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[]))`;

interface SeriesRow {
  id: number;
  sensor: string;
  gas: string;
  unit: string;
  sensor_id: string;
  sensor_type: string;
}

type Channel = Pick<IngestRow, "sensor" | "gas" | "unit" | "sensorId" | "sensorType">;

/** Writes readings and answers replays; counts what this process stored. */
export class PostgresIngest {
  private readonly seriesIds = new Map<string, number>();
  private readonly counts = { readings: 0, duplicates: 0, batches: 0 };

  constructor(
    private readonly db: Database,
    private readonly partitions: Partitions,
  ) {}

  async replay(key: string): Promise<IngestAnswer | null> {
    return this.db.use(async (client) => {
      const result = await client.query<{ status: number; body: string }>(
        prepared(SELECT_ANSWER, [key]),
      );
      const row = result.rows[0];
      return row === undefined ? null : { status: row.status, body: row.body, replayed: true };
    });
  }

  async ingest(unit: IngestUnit, key: string | null, receivedAt: number): Promise<IngestOutcome> {
    const outcome = await this.db.use(async (client) => {
      const months = new Set<Month>(unit.rows.map((row) => monthOf(row.ts)));
      // The next month too, so it exists before the first reading of it arrives.
      months.add(monthOf(receivedAt) + 1);
      await this.partitions.ensure(client, months);
      const series = await this.seriesFor(client, unit);
      try {
        return await this.store(client, unit, series, key, receivedAt);
      } catch (error) {
        // A retention pass in another process dropped a month this one thought it had.
        if (!isMissingPartition(error)) throw error;
        this.partitions.forget(months);
        await this.partitions.ensure(client, months);
        return await this.store(client, unit, series, key, receivedAt);
      }
    });
    if (!outcome.replayed) {
      this.counts.readings += outcome.accepted;
      this.counts.duplicates += outcome.duplicates;
      this.counts.batches += 1;
    }
    return outcome;
  }

  stats(): IngestStats {
    return { ...this.counts, scope: "process" };
  }

  private async store(
    client: pg.ClientBase,
    unit: IngestUnit,
    series: Int32Array,
    key: string | null,
    receivedAt: number,
  ): Promise<IngestOutcome> {
    for (let attempt = 1; attempt <= MAX_KEY_ATTEMPTS; attempt++) {
      const outcome = await inTransaction(client, async () => {
        const batch = await client.query<{ seq: string }>(
          prepared(INSERT_BATCH, [
            key,
            unit.batchId,
            unit.format,
            unit.indexName,
            unit.gps,
            receivedAt,
          ]),
        );
        const seq = batch.rows[0]?.seq;
        if (seq === undefined) return this.storedAnswer(client, key);
        const accepted = await insertReadings(client, unit.rows, series, seq);
        const duplicates = unit.rows.length - accepted;
        const body = JSON.stringify({ accepted, duplicates, batchId: unit.batchId });
        await client.query(prepared(FINISH_BATCH, [body, accepted, duplicates, seq]));
        return { status: 200, body, replayed: false, accepted, duplicates };
      });
      if (outcome !== null) return outcome;
    }
    throw new PostgresStoreError(
      ERROR_CODES.postgres.conflict,
      this.db.location,
      `idempotency key kept conflicting without a stored answer after ${MAX_KEY_ATTEMPTS} attempts`,
    );
  }

  /** The answer under `key` once an insert found it taken; null when it vanished meanwhile. */
  private async storedAnswer(
    client: pg.ClientBase,
    key: string | null,
  ): Promise<IngestOutcome | null> {
    if (key === null) return null;
    // A new statement in READ COMMITTED: it sees the row the conflicting transaction committed.
    const prior = await client.query<{ status: number; body: string }>(
      prepared(SELECT_ANSWER, [key]),
    );
    const row = prior.rows[0];
    if (row === undefined) return null;
    return { status: row.status, body: row.body, replayed: true, accepted: 0, duplicates: 0 };
  }

  /**
   * Series ids for every row. Unknown channels are inserted and read back
   * before the ingest transaction, each in its own statement: a new series
   * row held uncommitted would make every other request of that channel
   * wait, and a cached id can never name a row that was rolled back.
   */
  private async seriesFor(client: pg.ClientBase, unit: IngestUnit): Promise<Int32Array> {
    const prefix = `${unit.device.length}:${unit.device}${unit.group.length}:${unit.group}`;
    const ids = new Int32Array(unit.rows.length);
    const missing = new Map<string, Channel>();
    const keys: string[] = [];
    for (const [index, row] of unit.rows.entries()) {
      const key = prefix + channelKey(row);
      keys.push(key);
      const cached = this.seriesIds.get(key);
      if (cached === undefined) missing.set(key, row);
      else ids[index] = cached;
    }
    if (missing.size > 0) {
      // Sorted: two requests adding the same channels lock them in the same order (no deadlock).
      const channels = [...missing.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const params = [
        unit.device,
        unit.group,
        channels.map(([, channel]) => channel.sensor),
        channels.map(([, channel]) => channel.gas),
        channels.map(([, channel]) => channel.unit),
        channels.map(([, channel]) => channel.sensorId),
        channels.map(([, channel]) => channel.sensorType),
      ];
      await client.query(prepared(INSERT_SERIES, params));
      const found = await client.query<SeriesRow>(prepared(SELECT_SERIES, params));
      const resolved = new Map(
        found.rows.map((row) => [prefix + channelKey(rowChannel(row)), row.id] as const),
      );
      if (this.seriesIds.size + resolved.size > MAX_CACHED_SERIES) this.seriesIds.clear();
      for (const [key, id] of resolved) this.seriesIds.set(key, id);
      for (const [index, key] of keys.entries()) {
        if (!missing.has(key)) continue;
        const id = resolved.get(key);
        if (id === undefined) {
          throw new PostgresStoreError(
            ERROR_CODES.postgres.series,
            this.db.location,
            "a series row was neither inserted nor found",
          );
        }
        ids[index] = id;
      }
    }
    return ids;
  }
}

function rowChannel(row: SeriesRow): Channel {
  return {
    sensor: row.sensor,
    gas: row.gas,
    unit: row.unit,
    sensorId: row.sensor_id,
    sensorType: row.sensor_type,
  };
}

/** Length-prefixed: unambiguous whatever the strings contain, and cheaper to build than JSON. */
function channelKey(channel: Channel): string {
  return `${channel.sensor.length}:${channel.sensor}${channel.gas.length}:${channel.gas}${channel.unit.length}:${channel.unit}${channel.sensorId.length}:${channel.sensorId}${channel.sensorType.length}:${channel.sensorType}`;
}

/**
 * Inserts in (ts, id) order: two requests carrying the same readings then
 * take their row locks in the same order and cannot deadlock, and the
 * primary key index is filled left to right.
 */
async function insertReadings(
  client: pg.ClientBase,
  rows: IngestRow[],
  series: Int32Array,
  batchSeq: string,
): Promise<number> {
  if (rows.length === 0) return 0;
  const ordered = rows.map((row, index) => ({ row, series: series[index] ?? 0 }));
  ordered.sort(({ row: a }, { row: b }) =>
    a.ts !== b.ts ? a.ts - b.ts : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
  );
  const ms: number[] = [];
  const values: number[] = [];
  const seriesIds: number[] = [];
  const ids: string[] = [];
  const flags: string[] = [];
  for (const { row, series: id } of ordered) {
    ms.push(row.ts);
    values.push(row.value);
    seriesIds.push(id);
    ids.push(row.id);
    flags.push(row.flags);
  }
  const result = await client.query(
    prepared(INSERT_READINGS, [ms, values, seriesIds, ids, flags, batchSeq]),
  );
  return result.rowCount ?? 0;
}
