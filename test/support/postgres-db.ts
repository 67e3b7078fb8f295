import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";

export interface TestDatabase {
  /** postgres://USER@HOST:PORT/NAME: no password, as sensord-ingest's --db takes it. */
  url: string;
  name: string;
  password: string;
  /** Runs SQL in this database as the superuser. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

/** A fresh database in the suite's cluster (test/support/postgres-global.ts). */
export async function createTestDatabase(prefix = "t"): Promise<TestDatabase> {
  const shared = inject("postgres");
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const connection = {
    host: shared.host,
    port: shared.port,
    user: shared.user,
    password: shared.password,
  };
  const admin = new pg.Client({ ...connection, database: "postgres" });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: `postgres://${shared.user}@${shared.host}:${shared.port}/${name}`,
    name,
    password: shared.password,
    async query<T>(sql: string, params: unknown[] = []) {
      const client = new pg.Client({ ...connection, database: name });
      await client.connect();
      try {
        return (await client.query(sql, params)).rows as T[];
      } finally {
        await client.end();
      }
    },
  };
}
