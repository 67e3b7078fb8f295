#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { readApiKey } from "../core/api-key.js";
import { DURATION_HINT, formatDuration, parseDuration } from "../core/duration.js";
import { describeError, EXIT_CONFIG, EXIT_USAGE, SensordError } from "../core/errors.js";
import type { LogLevel } from "../core/logger.js";
import { processLogger } from "../core/logger.js";
import { formatSize, parseSize, SIZE_HINT } from "../core/size.js";
import { VERSION } from "../core/version.js";
import { DEFAULT_MAX_BODY } from "./core/decode.js";
import { DEFAULT_MAX_INFLIGHT_BYTES } from "./http/inflight.js";
import { DEFAULT_LISTEN, LISTEN_HINT, type ListenAddress, parseListen } from "./http/listen.js";
import { startIngestServer } from "./http/server.js";
import { isPostgresUrl } from "./store/open.js";

interface Options {
  listen: ListenAddress;
  db: string;
  dbPasswordFile?: string;
  apiKeyFile?: string;
  allowedHost: string[];
  maxBody: number;
  maxInflightBytes: number;
  retention?: number;
  logLevel: LogLevel;
}

/** Thrown to end with a specific exit code after printing `message` to stderr. */
class ExitError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

function listenArg(text: string): ListenAddress {
  const address = parseListen(text);
  if (address === null) throw new InvalidArgumentError(`"${text}": ${LISTEN_HINT}`);
  return address;
}

function sizeArg(text: string): number {
  const bytes = parseSize(text);
  if (bytes === null || bytes < 1) throw new InvalidArgumentError(`"${text}": ${SIZE_HINT}`);
  return bytes;
}

function durationArg(text: string): number {
  const ms = parseDuration(text);
  if (ms === null || ms < 86_400_000) {
    throw new InvalidArgumentError(`"${text}": ${DURATION_HINT}; at least 1d (e.g. "400d")`);
  }
  return ms;
}

/**
 * A password in argv shows in `ps` and shell history: it must come from a
 * file or the environment. Checked here rather than in an argParser, whose
 * error message would echo the URL, password and all.
 */
function checkDbUrl(text: string): void {
  if (!isPostgresUrl(text)) return;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ExitError(EXIT_USAGE, "--db: not a valid URL; use postgres://USER@HOST:PORT/DBNAME");
  }
  if (url.password !== "") {
    throw new ExitError(
      EXIT_USAGE,
      "--db: the URL holds a password, which would show in ps and shell history; remove it and use PGPASSWORD, ~/.pgpass or --db-password-file",
    );
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The password file's first line; never echoed in any message. */
function passwordFrom(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ExitError(
      EXIT_CONFIG,
      `--db-password-file: cannot read ${file} (${describeError(error)}); create it, readable only by the service user (chmod 600)`,
    );
  }
  const password = text.split("\n")[0]?.trim() ?? "";
  if (password === "") {
    throw new ExitError(
      EXIT_CONFIG,
      `--db-password-file: ${file} is empty; put the password on its first line`,
    );
  }
  return password;
}

/** The key comes from a file so it never shows in `ps` or shell history. */
function apiKeyFrom(file: string, warn: (message: string) => void): string {
  try {
    const { key, warning } = readApiKey(file);
    // Like ssh: a secret others can read is worth a warning, not a refusal.
    if (warning !== null) warn(warning);
    return key;
  } catch (error) {
    throw new ExitError(EXIT_CONFIG, `--api-key-file: ${describeError(error)}`);
  }
}

const program = new Command()
  .name("sensord-ingest")
  .description(
    "Fleet ingest service: receives sensord batches (and original gateway documents) over HTTP and stores them in SQLite or PostgreSQL",
  )
  .version(VERSION)
  .addOption(
    new Option("--listen <host:port>", "address to listen on; port 0 picks a free one")
      .argParser(listenArg)
      .default(parseListen(DEFAULT_LISTEN), DEFAULT_LISTEN),
  )
  .addOption(
    new Option(
      "--db <file|url>",
      "SQLite database file (created when missing), postgres://USER@HOST:PORT/DBNAME or opensearch+https://HOST[:PORT] (signed with AWS credentials, AWS_REGION)",
    ).default("./var/ingest.db"),
  )
  .option(
    "--db-password-file <file>",
    "PostgreSQL password, first line of this file (else PGPASSWORD or ~/.pgpass)",
  )
  .option("--api-key-file <file>", "require x-api-key equal to this file's content (trimmed)")
  .addOption(
    new Option(
      "--allowed-host <name>",
      "without an API key, also serve requests for this Host name (repeatable; loopback names and the listen address are always served)",
    )
      .argParser(collect)
      .default([]),
  )
  .addOption(
    new Option(
      "--retention <duration>",
      "delete readings and alerts older than this, e.g. 400d",
    ).argParser(durationArg),
  )
  .addOption(
    new Option("--max-body <size>", "request body limit, on the wire and after gunzip")
      .argParser(sizeArg)
      .default(DEFAULT_MAX_BODY, formatSize(DEFAULT_MAX_BODY)),
  )
  .addOption(
    new Option(
      "--max-inflight-bytes <size>",
      "request bodies held at once; past it the answer is 503 with Retry-After",
    )
      .argParser(sizeArg)
      .default(DEFAULT_MAX_INFLIGHT_BYTES, formatSize(DEFAULT_MAX_INFLIGHT_BYTES)),
  )
  .addOption(
    new Option("--log-level <level>", "stderr log level (debug logs one line per request)")
      .choices(["error", "warn", "info", "debug"])
      .default("info"),
  )
  .exitOverride()
  .addHelpText(
    "after",
    "\nPrints `listening on http://HOST:PORT` as the first line on stdout once ready." +
      "\nExit codes: 0 ok (also after SIGTERM/SIGINT), 1 failure, 2 usage error, 78 configuration error.",
  );

async function main(): Promise<void> {
  program.parse(process.argv);
  const options = program.opts<Options>();
  const log = processLogger(options.logLevel);
  const apiKey =
    options.apiKeyFile === undefined
      ? null
      : apiKeyFrom(options.apiKeyFile, (message) => log.warn(message));
  checkDbUrl(options.db);
  if (options.maxInflightBytes < options.maxBody) {
    throw new ExitError(
      EXIT_USAGE,
      `--max-inflight-bytes (${formatSize(options.maxInflightBytes)}) must be at least --max-body (${formatSize(options.maxBody)})`,
    );
  }
  const dbPassword =
    options.dbPasswordFile === undefined ? null : passwordFrom(options.dbPasswordFile);
  let server: Awaited<ReturnType<typeof startIngestServer>>;
  try {
    server = await startIngestServer({
      listen: options.listen,
      dbPath: options.db,
      dbPassword,
      apiKey,
      allowedHosts: options.allowedHost,
      maxBody: options.maxBody,
      maxInflightBytes: options.maxInflightBytes,
      retentionMs: options.retention ?? null,
      log,
    });
  } catch (error) {
    if (error instanceof SensordError) throw new ExitError(1, error.message);
    throw new ExitError(
      1,
      `cannot listen on ${options.listen.host}:${options.listen.port}: ${describeError(error)}`,
    );
  }
  process.stdout.write(`listening on ${server.url}\n`);
  log.info(
    `sensord-ingest ${VERSION} listening on ${server.url}, ${server.store.kind} database ${server.store.location}, ` +
      `body limit ${formatSize(options.maxBody)}, in-flight limit ${formatSize(options.maxInflightBytes)}, ` +
      `retention ${options.retention === undefined ? "off (keep everything)" : formatDuration(options.retention)}, ` +
      `api key ${apiKey === null ? "off" : "required"}`,
  );
  const stop = (signal: NodeJS.Signals): void => {
    log.info(`${signal}: finishing in-flight requests`);
    server.close().then(
      () => {
        process.exit(0);
      },
      (error: unknown) => {
        log.error(`shutdown failed: ${describeError(error)}`);
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main().catch((error: unknown) => {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE);
  if (error instanceof ExitError) {
    process.stderr.write(`sensord-ingest: ${error.message}\n`);
    process.exit(error.exitCode);
  }
  process.stderr.write(`sensord-ingest: ${describeError(error)}\n`);
  process.exit(1);
});
