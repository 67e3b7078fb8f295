#!/usr/bin/env node
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { readApiKey } from "../daemon/config/api-key.js";
import { formatSize, parseSize, SIZE_HINT } from "../daemon/config/size.js";
import type { LogLevel } from "../daemon/config/types.js";
import { describeError, EXIT_CONFIG, EXIT_USAGE, SensordError } from "../daemon/errors.js";
import { processLogger } from "../daemon/log/logger.js";
import { VERSION } from "../daemon/version.js";
import { DEFAULT_MAX_BODY } from "./body.js";
import { DEFAULT_LISTEN, LISTEN_HINT, type ListenAddress, parseListen } from "./listen.js";
import { startIngestServer } from "./server.js";

interface Options {
  listen: ListenAddress;
  db: string;
  apiKeyFile?: string;
  maxBody: number;
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
    "Reference ingest service: receives sensord batches (and original gateway documents) over HTTP and stores them in SQLite",
  )
  .version(VERSION)
  .addOption(
    new Option("--listen <host:port>", "address to listen on; port 0 picks a free one")
      .argParser(listenArg)
      .default(parseListen(DEFAULT_LISTEN), DEFAULT_LISTEN),
  )
  .option("--db <file>", "SQLite database (created when missing)", "./var/ingest.db")
  .option("--api-key-file <file>", "require x-api-key equal to this file's content (trimmed)")
  .addOption(
    new Option("--max-body <size>", "request body limit, on the wire and after gunzip")
      .argParser(sizeArg)
      .default(DEFAULT_MAX_BODY, formatSize(DEFAULT_MAX_BODY)),
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
  let server: Awaited<ReturnType<typeof startIngestServer>>;
  try {
    server = await startIngestServer({
      listen: options.listen,
      dbPath: options.db,
      apiKey,
      maxBody: options.maxBody,
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
    `sensord-ingest ${VERSION} listening on ${server.url}, database ${options.db}, ` +
      `body limit ${formatSize(options.maxBody)}, api key ${apiKey === null ? "off" : "required"}`,
  );
  const stop = (signal: NodeJS.Signals): void => {
    log.info(`${signal}: finishing in-flight requests`);
    server.close().then(
      () => {
        log.info(`stopped; ${JSON.stringify(server.stats())}`);
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
