import { type CodeOf, describeError, ERROR_CODES, StoreError } from "../../../core/errors.js";

/**
 * A PostgreSQL store failure, `path` being the password-free location
 * (postgres://user@host:port/db); its code is one of ERROR_CODES.postgres,
 * each explained in README.md beside this file.
 */
export class PostgresStoreError extends StoreError {
  constructor(
    code: CodeOf<"postgres">,
    location: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, location, message, options);
  }
}

interface PgErrorFields {
  code?: unknown;
  errors?: unknown;
}

/** SQLSTATE or errno code of a pg or network error (AggregateError: its first member's). */
export function errorCode(error: unknown): string {
  if (typeof error !== "object" || error === null) return "";
  const fields = error as PgErrorFields;
  if (typeof fields.code === "string") return fields.code;
  if (Array.isArray(fields.errors) && fields.errors.length > 0) return errorCode(fields.errors[0]);
  return "";
}

export interface ConnectTarget {
  location: string;
  host: string;
  port: number;
  user: string;
  database: string;
  /** Removed from every message, whatever put it there. */
  password: string | null;
}

/** What went wrong while connecting, and what to change, never with the password in it. */
export function connectError(error: unknown, target: ConnectTarget): PostgresStoreError {
  const code = errorCode(error);
  const detail = redact(describeError(error), target.password);
  const { host, port, user, database } = target;
  const fail = (kind: CodeOf<"postgres">, message: string) =>
    new PostgresStoreError(kind, target.location, redact(message, target.password), {
      cause: error,
    });
  const passwordHint = "give the password with --db-password-file FILE, PGPASSWORD or ~/.pgpass";
  if (code === "28P01") {
    return fail(
      ERROR_CODES.postgres.auth,
      `password authentication failed for user "${user}": ${passwordHint}`,
    );
  }
  // node-postgres's words when the server asks for a password and none was found.
  if (/client password must be a string/.test(detail)) {
    return fail(
      ERROR_CODES.postgres.auth,
      `the server asks user "${user}" for a password and none was given: ${passwordHint}`,
    );
  }
  if (code === "28000") {
    return fail(
      ERROR_CODES.postgres.auth,
      `the server refused user "${user}" (${detail}): check the user in the URL and the server's pg_hba.conf`,
    );
  }
  if (code === "3D000") {
    return fail(
      ERROR_CODES.postgres.noDatabase,
      `database "${database}" does not exist: create it with \`createdb -O ${user} ${database}\``,
    );
  }
  if (code === "ECONNREFUSED" || code === "ENOENT") {
    return fail(
      ERROR_CODES.postgres.unreachable,
      `nothing accepts connections at ${host}:${port} (${detail}): is PostgreSQL running there, and are the host and port in the URL right?`,
    );
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return fail(
      ERROR_CODES.postgres.unreachable,
      `host "${host}" not found: check the host in the URL`,
    );
  }
  // pg-pool's own wording when every connection stayed busy past the timeout: the server is fine.
  if (/timeout exceeded when trying to connect/.test(detail)) {
    return fail(
      ERROR_CODES.postgres.connect,
      "every pool connection stayed busy past the connect timeout: the database is slow or overloaded; raise the pool size or the server's capacity",
    );
  }
  if (
    code === "ETIMEDOUT" ||
    code === "EHOSTUNREACH" ||
    code === "ENETUNREACH" ||
    /timeout/i.test(detail)
  ) {
    return fail(
      ERROR_CODES.postgres.unreachable,
      `no answer from ${host}:${port} (${detail}): check the host and port in the URL and any firewall between`,
    );
  }
  if (code === "53300") {
    return fail(
      ERROR_CODES.postgres.connect,
      `the server has no free connection (${detail}): raise max_connections or lower the pool size`,
    );
  }
  return fail(ERROR_CODES.postgres.connect, `cannot connect: ${detail}`);
}

/** Replaces the password wherever it appears (a server or driver may echo what it was given). */
export function redact(text: string, password: string | null): string {
  if (password === null || password === "") return text;
  return text.replaceAll(password, "***");
}
