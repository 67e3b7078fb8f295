import { openSqliteStore } from "./sqlite/index.js";
import type { CloudStore } from "./types.js";

export interface StoreSpec {
  /** `postgres://USER@HOST:PORT/DB` (or `postgresql://`), else a SQLite file path. */
  db: string;
  /** PostgreSQL only; otherwise PGPASSWORD or ~/.pgpass apply. */
  password?: string | null;
  log?: (level: "info" | "warn", message: string) => void;
}

/** The store a `--db` value names: one line per kind of store. */
export async function openStore(spec: StoreSpec): Promise<CloudStore> {
  if (isPostgresUrl(spec.db)) {
    // Loaded only when used: an ingest on SQLite never pays for the PostgreSQL client.
    const { openPostgresStore } = await import("./postgres/index.js");
    return openPostgresStore({ url: spec.db, password: spec.password ?? null, log: spec.log });
  }
  return openSqliteStore(spec.db, spec.log);
}

export function isPostgresUrl(db: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(db);
}
