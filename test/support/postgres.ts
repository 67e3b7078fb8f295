import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdtempSync, readdirSync, realpathSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "./mosquitto.js";

const run = promisify(execFile);

/** How long a fresh server may take to accept connections before the test gives up. */
const START_TIMEOUT_MS = 20_000;
/** Fast shutdown normally takes well under a second; past this the server is killed. */
const STOP_GRACE_MS = 5_000;
const SUPERUSER = "sensord";

/**
 * The folder holding initdb, postgres and pg_ctl: the folder of PATH's
 * initdb (symlinks resolved: Debian links only some tools into /usr/bin),
 * else the newest /usr/lib/postgresql/N/bin. Null when PostgreSQL is not installed.
 */
export function findPostgresBin(): string | null {
  for (const folder of (process.env.PATH ?? "").split(delimiter)) {
    if (folder === "") continue;
    const initdb = join(folder, "initdb");
    if (!existsSync(initdb)) continue;
    const real = dirname(realpathSync(initdb));
    if (existsSync(join(real, "postgres"))) return real;
  }
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((name) => /^\d+(\.\d+)?$/.test(name))
    .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  for (const version of versions) {
    const bin = join(root, version, "bin");
    if (existsSync(join(bin, "initdb")) && existsSync(join(bin, "postgres"))) return bin;
  }
  return null;
}

export interface PgCluster {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Random, for scram-sha-256 over TCP (the unix socket trusts the superuser). */
  readonly password: string;
  /** Temp folder: the data directory and the unix socket are inside. */
  readonly dir: string;
  /** Creates a fresh database, returns its URL WITHOUT password: postgres://sensord@127.0.0.1:PORT/NAME */
  createDatabase(name?: string): Promise<string>;
  /** Runs SQL as the superuser over the unix socket in `dir`, returns rows. */
  query<T = Record<string, unknown>>(
    database: string,
    sql: string,
    params?: unknown[],
  ): Promise<T[]>;
  /** Stops the server (by its PID, fast shutdown) and removes the folder. Idempotent. */
  stop(): Promise<void>;
}

interface RunAs {
  uid: number;
  gid: number;
}

/**
 * A throwaway PostgreSQL server on 127.0.0.1: its own data directory in a
 * temp folder, stopped by PID. Tests need no durability (fsync off);
 * `durable` keeps PostgreSQL's defaults (fsync, synchronous commit, full
 * page writes), for benchmarks that compare with a real server.
 */
export async function startPgCluster(options: { durable?: boolean } = {}): Promise<PgCluster> {
  const bin = findPostgresBin();
  if (bin === null) {
    throw new Error(
      "PostgreSQL is not installed (no initdb on PATH or in /usr/lib/postgresql/*/bin): apt-get install -y postgresql",
    );
  }
  const runAs = postgresUser();
  const dir = mkdtempSync(join(tmpdir(), "sensord-pg-"));
  try {
    if (runAs !== null) chownSync(dir, runAs.uid, runAs.gid);
    const password = randomBytes(18).toString("base64url");
    await initCluster(bin, dir, password, runAs);
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      try {
        const server = await launch(bin, dir, port, runAs, options.durable ?? false);
        return new Cluster(dir, port, password, server);
      } catch (error) {
        // Another process may take the port between freePort() and the bind.
        if (attempt < 3 && error instanceof PortTakenError) continue;
        throw error;
      }
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** initdb and postgres refuse to run as root: as root they run as Debian's `postgres` user. */
function postgresUser(): RunAs | null {
  if (process.getuid?.() !== 0) return null;
  try {
    const id = (flag: string) =>
      Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8", stdio: "pipe" }).trim());
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    throw new Error(
      "running as root, and PostgreSQL refuses to run as root, but there is no `postgres` user to run it as: apt-get install -y postgresql creates it",
    );
  }
}

function childEnv(dir: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, LC_ALL: "C", LANG: "C" };
}

async function initCluster(
  bin: string,
  dir: string,
  password: string,
  runAs: RunAs | null,
): Promise<void> {
  const pwfile = join(dir, "pwfile");
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (runAs !== null) chownSync(pwfile, runAs.uid, runAs.gid);
  try {
    await run(
      join(bin, "initdb"),
      [
        "-D",
        join(dir, "data"),
        "-U",
        SUPERUSER,
        `--pwfile=${pwfile}`,
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "-E",
        "UTF8",
        "--locale=C",
        // A throwaway cluster needs no durability: skipping the fsyncs saves a second or more.
        "--no-sync",
      ],
      { cwd: dir, env: childEnv(dir), ...(runAs ?? {}) },
    );
  } catch (error) {
    const output = error instanceof Error && "stderr" in error ? String(error.stderr) : "";
    throw new Error(`initdb failed: ${error instanceof Error ? error.message : error}\n${output}`);
  } finally {
    rmSync(pwfile, { force: true });
  }
}

class PortTakenError extends Error {}

interface Server {
  child: ChildProcess;
  log: () => string;
}

async function launch(
  bin: string,
  dir: string,
  port: number,
  runAs: RunAs | null,
  durable: boolean,
): Promise<Server> {
  const child = spawn(
    join(bin, "postgres"),
    [
      "-D",
      join(dir, "data"),
      "-p",
      String(port),
      "-k",
      dir,
      "-c",
      "listen_addresses=127.0.0.1",
      ...(durable
        ? []
        : ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]),
      "-c",
      "max_connections=100",
    ],
    { cwd: dir, env: childEnv(dir), stdio: ["ignore", "pipe", "pipe"], ...(runAs ?? {}) },
  );
  RUNNING.set(child, dir);
  child.once("exit", () => RUNNING.delete(child));
  let output = "";
  const collect = (chunk: Buffer): void => {
    output += chunk.toString();
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const server: Server = { child, log: () => output };
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      if (/could not bind|address already in use/i.test(output)) throw new PortTakenError(output);
      throw new Error(`postgres exited (${child.exitCode ?? child.signalCode}):\n${output}`);
    }
    if (await accepts(dir, port)) return server;
    if (Date.now() > deadline) {
      await killServer(child);
      throw new Error(`postgres did not accept connections in ${START_TIMEOUT_MS} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function accepts(dir: string, port: number): Promise<boolean> {
  const client = new pg.Client({ host: dir, port, user: SUPERUSER, database: "postgres" });
  // A refused connection also emits 'error' on the client; connect() reports it.
  client.on("error", () => {});
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

async function killServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  // SIGINT is postgres's fast shutdown: active sessions are disconnected, no waiting for them.
  process.kill(child.pid, "SIGINT");
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, "SIGKILL");
    }
  }, STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

let databaseCount = 0;

class Cluster implements PgCluster {
  readonly host = "127.0.0.1";
  readonly user = SUPERUSER;
  private stopping: Promise<void> | null = null;

  constructor(
    readonly dir: string,
    readonly port: number,
    readonly password: string,
    private readonly server: Server,
  ) {}

  async createDatabase(name?: string): Promise<string> {
    const database = name ?? `test_${process.pid}_${++databaseCount}`;
    await this.query("postgres", `CREATE DATABASE ${pg.escapeIdentifier(database)}`);
    return `postgres://${this.user}@${this.host}:${this.port}/${encodeURIComponent(database)}`;
  }

  async query<T = Record<string, unknown>>(
    database: string,
    sql: string,
    params: unknown[] = [],
  ): Promise<T[]> {
    const client = new pg.Client({ host: this.dir, port: this.port, user: this.user, database });
    await client.connect();
    try {
      const result = await client.query(sql, params);
      return result.rows as T[];
    } finally {
      await client.end();
    }
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await killServer(this.server.child);
      rmSync(this.dir, { recursive: true, force: true });
    })();
    return this.stopping;
  }
}

/** Servers running, with their temp folders. */
const RUNNING = new Map<ChildProcess, string>();

// A test worker that exits without afterAll must not leave servers or data behind.
process.once("exit", () => {
  for (const [child, dir] of RUNNING) {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
