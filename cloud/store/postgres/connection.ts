import type pg from "pg";
import { ERROR_CODES } from "../../../core/errors.js";
import { type ConnectTarget, PostgresStoreError } from "./errors.js";

export interface PostgresStoreOptions {
  /** `postgres://USER@HOST:PORT/DBNAME` or `postgresql://...`; `?sslmode=` and `?host=` (a socket folder) are understood. */
  url: string;
  /** Wins over a password in the URL; without either, node-postgres reads PGPASSWORD or ~/.pgpass. */
  password?: string | null;
  /** Connections per process (default 8). */
  poolSize?: number;
  log?: (level: "info" | "warn", message: string) => void;
}

export const DEFAULT_POOL_SIZE = 8;
/** A host that drops packets must not hang startup forever. */
const CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_PORT = 5432;

export interface ConnectionPlan {
  config: pg.PoolConfig;
  target: ConnectTarget;
}

/**
 * Pool settings from the URL. Parsed here rather than handed to pg as
 * `connectionString`: pg lets the string's (empty) password override an
 * explicit `password`, so --db-password-file would be ignored.
 */
export function planConnection(options: PostgresStoreOptions): ConnectionPlan {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new PostgresStoreError(
      ERROR_CODES.postgres.url,
      "postgres://?",
      "not a URL: expected postgres://USER@HOST:PORT/DBNAME",
    );
  }
  const location = safeLocation(url);
  const bad = (message: string) =>
    new PostgresStoreError(ERROR_CODES.postgres.url, location, message);
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw bad("expected a postgres:// or postgresql:// URL");
  }
  const user = decode(url.username);
  const database = decode(url.pathname.replace(/^\//, ""));
  if (user === "") throw bad("the URL names no user: postgres://USER@HOST:PORT/DBNAME");
  if (database === "") throw bad("the URL names no database: postgres://USER@HOST:PORT/DBNAME");
  let host = decode(url.hostname).replace(/^\[(.*)\]$/, "$1");
  let ssl: pg.PoolConfig["ssl"];
  for (const [name, value] of url.searchParams) {
    if (name === "host") host = value;
    else if (name === "sslmode") ssl = sslFor(value, bad);
    // Dropped from `location` and never used: it would put the secret in argv and logs.
    else if (name === "password") continue;
    else throw bad(`unknown URL parameter "${name}" (understood: host, sslmode)`);
  }
  if (host === "") host = "localhost";
  const port = url.port === "" ? DEFAULT_PORT : Number(url.port);
  const password =
    options.password !== undefined && options.password !== null && options.password !== ""
      ? options.password
      : url.password !== ""
        ? decode(url.password)
        : null;
  const config: pg.PoolConfig = {
    host,
    port,
    user,
    database,
    max: options.poolSize ?? DEFAULT_POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: "sensord-ingest",
    ...(ssl === undefined ? {} : { ssl }),
    // Left out when null: pg then falls back to PGPASSWORD and ~/.pgpass.
    ...(password === null ? {} : { password }),
  };
  return { config, target: { location, host, port, user, database, password } };
}

/** The URL without any password (userinfo or `?password=`): safe for logs and errors. */
function safeLocation(url: URL): string {
  const copy = new URL(url.href);
  copy.password = "";
  copy.searchParams.delete("password");
  return copy.href;
}

function sslFor(mode: string, bad: (message: string) => PostgresStoreError): pg.PoolConfig["ssl"] {
  switch (mode) {
    case "disable":
      return false;
    case "no-verify":
      return { rejectUnauthorized: false };
    case "require":
    case "verify-ca":
    case "verify-full":
      // As node-postgres 8 does: every mode that asks for TLS verifies the server's certificate.
      return true;
    default:
      throw bad(`unknown sslmode "${mode}" (disable, no-verify, require, verify-ca, verify-full)`);
  }
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
