import type pg from "pg";
import Cursor from "pg-cursor";
import type { CsvQuery, CsvRow } from "../types.js";
import type { Database } from "./database.js";
import { readingsWhere } from "./queries.js";
import { tsToMs, whereClause } from "./sql.js";

/** Rows per page: one page is a few hundred KB of CSV, written before the next is read. */
const CSV_PAGE_ROWS = 2000;

/** The export's SQL: the matching readings, oldest first (ts, then id). */
function csvSql(query: CsvQuery): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const where = readingsWhere(query, values);
  const text = `SELECT r.id, ${tsToMs("r.ts")} AS ts, r.value, r.flags, s.device,
      s.group_id AS "group", s.sensor, s.gas, s.unit
    FROM readings r JOIN series s ON s.id = r.series
    ${whereClause(where)} ORDER BY r.ts, r.id`;
  return { text, values };
}

interface Open {
  client: pg.PoolClient;
  cursor: Cursor<CsvRow>;
}

/**
 * One CSV download: a server-side cursor on a client of its own, inside a
 * READ ONLY transaction, so the whole export is one consistent snapshot
 * and the server sends a page only when the consumer asks for it. The
 * client is released when the rows run out, when the consumer stops early
 * (`for await` calls return()), on an error, and when the store closes.
 */
export class CsvPages implements AsyncIterableIterator<CsvRow[]> {
  private open: Open | null = null;
  private finished = false;
  private aborted = false;
  /** Calls are chained: return() must not close the cursor under a read in progress. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Database,
    private readonly query: CsvQuery,
    private readonly sessions: Set<CsvPages>,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<CsvRow[]>> {
    return this.serially(() => this.readPage());
  }

  return(): Promise<IteratorResult<CsvRow[]>> {
    return this.serially(async () => {
      await this.finish();
      return { done: true, value: undefined };
    });
  }

  /** Ends the download now (the store is closing); a later next() says the store is closed. */
  abort(): Promise<void> {
    this.aborted = true;
    return this.serially(() => this.finish());
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => {});
    return result;
  }

  private async readPage(): Promise<IteratorResult<CsvRow[]>> {
    if (this.aborted) this.db.refuseWhenClosed();
    if (this.finished) return { done: true, value: undefined };
    try {
      return await this.db.track(async () => {
        const open = this.open ?? (await this.start());
        const rows = await open.cursor.read(CSV_PAGE_ROWS);
        // A short page is the last: release the client now, not on the next call.
        if (rows.length < CSV_PAGE_ROWS) await this.finish();
        if (rows.length === 0) return { done: true, value: undefined };
        return { done: false, value: rows };
      });
    } catch (error) {
      await this.finish(error);
      throw error;
    }
  }

  private async start(): Promise<Open> {
    const client = await this.db.connect();
    try {
      await client.query("BEGIN READ ONLY");
    } catch (error) {
      client.release(error instanceof Error ? error : true);
      throw error;
    }
    const { text, values } = csvSql(this.query);
    this.open = { client, cursor: client.query(new Cursor<CsvRow>(text, values)) };
    this.sessions.add(this);
    return this.open;
  }

  private async finish(failure?: unknown): Promise<void> {
    this.finished = true;
    const open = this.open;
    if (open === null) return;
    this.open = null;
    this.sessions.delete(this);
    let broken = failure !== undefined;
    try {
      if (!broken) {
        await open.cursor.close();
        await open.client.query("COMMIT");
      }
    } catch {
      broken = true;
    }
    // After a failure mid-cursor the connection's state is unknown: destroyed, never reused.
    open.client.release(broken || undefined);
  }
}
