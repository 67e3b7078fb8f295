import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { type PgCluster, startPgCluster } from "../test/support/postgres.js";
import type {
  FleetClientOptions,
  FleetClientReady,
  FleetClientReport,
} from "./fleet-load-client.js";
import { formatCount, formatMib, printReport, type SectionReport } from "./report.js";

/**
 * The fleet load benchmark (`## Fleet ingest load` in bench/README.md): 1,000
 * simulated devices uploading one minute of 4 gases at 1 Hz each to
 * `sensord-ingest` at once, 32 requests in flight, 10 % of the batches sent
 * again under a new idempotency key. The load comes from a child process of
 * its own (bench/fleet-load-client.ts) so its CPU is counted apart from the
 * ingest's. Three runs: SQLite; PostgreSQL with one ingest process; the same
 * with two processes sharing one database, requests round-robin over both.
 *
 * BENCH_FLEET_MINUTES (batches per device, default 5), BENCH_FLEET_DEVICES
 * (default 1000) and BENCH_FLEET_RUNS (comma-separated subset of
 * sqlite,postgres-1,postgres-2) shape a run. `node dist/bench/fleet-load.js`
 * runs this part alone.
 */

const SENSORD_INGEST = resolve(import.meta.dirname, "../cloud/main.js");
const CLIENT = resolve(import.meta.dirname, "fleet-load-client.js");
const CLOCK_TICKS_PER_SECOND = 100;

export type FleetRunKind = "sqlite" | "postgres-1" | "postgres-2";
const RUN_KINDS: readonly FleetRunKind[] = ["sqlite", "postgres-1", "postgres-2"];
const RUN_LABELS: Record<FleetRunKind, string> = {
  sqlite: "SQLite, 1 process",
  "postgres-1": "PostgreSQL, 1 process",
  "postgres-2": "PostgreSQL, 2 processes",
};

export interface FleetLoadOptions {
  devices: number;
  /** Batches per device (each one minute of readings). */
  minutes: number;
  /** Requests in flight in total. */
  concurrency: number;
  resendFraction: number;
  runs: FleetRunKind[];
}

export function fleetLoadOptionsFromEnv(): FleetLoadOptions {
  const runs = (process.env.BENCH_FLEET_RUNS ?? RUN_KINDS.join(","))
    .split(",")
    .map((run) => run.trim())
    .filter((run): run is FleetRunKind => (RUN_KINDS as readonly string[]).includes(run));
  return {
    devices: Number(process.env.BENCH_FLEET_DEVICES ?? 1000),
    minutes: Number(process.env.BENCH_FLEET_MINUTES ?? 5),
    concurrency: 32,
    resendFraction: 0.1,
    runs,
  };
}

export interface IngestProcessFigures {
  pid: number;
  /** VmHWM at the end of the run. */
  peakRssBytes: number;
  /** CPU (user + system) over the timed phase. */
  cpuSeconds: number;
  health: { readings: number; duplicates: number; batches: number } | null;
}

export interface FleetRunFigures {
  batches: number;
  resends: number;
  readingsSent: number;
  distinctReadings: number;
  resentReadings: number;
  bodyBytes: number;
  jsonBytes: number;
  /** Wall time of the timed phase, at the client. */
  seconds: number;
  /** readingsSent / seconds. */
  readingsPerSecond: number;
  /** Readings the ingest answered as accepted (stored) / seconds. */
  storedPerSecond: number;
  requests: number;
  requestsPerSecond: number;
  retries503: number;
  retriesNetwork: number;
  ok200: number;
  /** Final non-200 answers by `<status> <code>`. */
  failures: Record<string, number>;
  accepted: number;
  duplicates: number;
  latencyMs: FleetClientReport["latencyMs"];
  ingest: IngestProcessFigures[];
  /** PostgreSQL: every process of the cluster over the timed phase; null for SQLite (in-process) or unknown. */
  dbCpuSeconds: number | null;
  /**
   * The whole machine over the timed phase: a shared VM's other tenants
   * (othersSeconds: busy minus the ingest, database and client; the bench
   * process itself is in there too, idle while it waits) make runs differ.
   */
  machine: { busySeconds: number; othersSeconds: number; stealSeconds: number };
  /** PostgreSQL: count(*) of the readings table after the run. */
  storedRows: number | null;
  client: {
    cpuSeconds: number;
    /** cpuSeconds / (seconds x cores): how much of the machine the load generator took. */
    machineShare: number;
    buildSeconds: number;
    buildCpuSeconds: number;
    peakRssBytes: number;
  };
  /** Correctness: empty when every check passed. */
  problems: string[];
}

export type FleetRunResult =
  | { kind: FleetRunKind; label: string; ok: true; figures: FleetRunFigures }
  | { kind: FleetRunKind; label: string; ok: false; error: string };

export interface FleetLoadResult {
  options: FleetLoadOptions;
  runs: FleetRunResult[];
}

/** user+system (and with `children`, reaped children's) CPU seconds of a process, from /proc/<pid>/stat. */
function procCpu(pid: number, children = false): { ppid: number; seconds: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // After the command name (which may hold spaces): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const own = Number(fields[11]) + Number(fields[12]);
  const reaped = children ? Number(fields[13]) + Number(fields[14]) : 0;
  return { ppid: Number(fields[1]), seconds: (own + reaped) / CLOCK_TICKS_PER_SECOND };
}

/** Busy (not idle, not iowait) and stolen CPU seconds of the whole machine, from /proc/stat. */
function machineCpu(): { busy: number; steal: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = ticks;
  return {
    busy: (user + nice + system + irq + softirq) / CLOCK_TICKS_PER_SECOND,
    steal: steal / CLOCK_TICKS_PER_SECOND,
  };
}

function peakRssBytes(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1] ?? 0) * 1024;
}

/**
 * The cluster's postmaster: the first line of postmaster.pid in its data
 * directory, which the helper may keep in `dir` itself or in a subfolder.
 */
function postmasterPid(dir: string): number | null {
  const candidates = [dir, ...safeReaddir(dir).map((entry) => join(dir, entry))];
  for (const candidate of candidates) {
    const file = join(candidate, "postmaster.pid");
    if (!existsSync(file)) continue;
    const pid = Number(readFileSync(file, "utf8").split("\n")[0]);
    if (Number.isInteger(pid) && pid > 0) return pid;
  }
  return null;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * CPU of the whole cluster: the postmaster with its reaped children, plus
 * every live child (backends, checkpointer, WAL writer, autovacuum). A
 * backend that exits between two samples moves from the second term to the
 * first, so differences stay right.
 */
function clusterCpuSeconds(postmaster: number): number {
  let total = procCpu(postmaster, true).seconds;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === postmaster) continue;
    try {
      const cpu = procCpu(Number(entry));
      if (cpu.ppid === postmaster) total += cpu.seconds;
    } catch {
      // Exited since readdir.
    }
  }
  return total;
}

/**
 * One `sensord-ingest` in a child process, stopped by its PID. Not
 * bench/ingest-process.ts's BenchServer: the PostgreSQL runs pass the
 * password in the child's environment only.
 */
class IngestProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  private stdout = "";
  private stderr = "";
  private readonly exited: Promise<void>;

  /** `cwd`: an ingest that took a URL for a file name would create it there, not in the repo. */
  constructor(db: string, env: Record<string, string>, cwd: string) {
    this.child = spawn(
      process.execPath,
      [SENSORD_INGEST, "--listen", "127.0.0.1:0", "--db", db, "--log-level", "warn"],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env }, cwd },
    );
    if (this.child.pid === undefined) throw new Error("could not start sensord-ingest");
    this.pid = this.child.pid;
    this.child.stdout?.on("data", (chunk: Buffer) => {
      this.stdout += chunk.toString();
    });
    this.child.stderr?.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.exited = new Promise((resolveExit) => this.child.on("exit", () => resolveExit()));
  }

  /** Waits for `listening on URL` (the binary's first stdout line). */
  async url(timeoutMs = 30_000): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const match = /^listening on (http:\/\/\S+)\n/.exec(this.stdout);
      if (match?.[1] !== undefined) return match[1];
      if (this.child.exitCode !== null || performance.now() > deadline) {
        throw new Error(`sensord-ingest did not start listening:\n${this.stderr.trim()}`);
      }
      await new Promise((resolveWait) => setTimeout(resolveWait, 10));
    }
  }

  get log(): string {
    return this.stderr;
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** The load generator: spawned, told to go once it has built its bodies, read until done. */
class LoadClient {
  private readonly child: ChildProcess;
  private readonly lines: AsyncIterator<string>;
  private stderr = "";

  constructor(options: FleetClientOptions) {
    this.child = spawn(process.execPath, [CLIENT, JSON.stringify(options)], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stderr?.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    if (this.child.stdout === null) throw new Error("no stdout from the load client");
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  async next<T>(event: string, timeoutMs: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`load client: no "${event}" within ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
    });
    try {
      const line = await Promise.race([this.lines.next(), timeout]);
      if (line.done === true) {
        throw new Error(`load client ended before "${event}":\n${this.stderr.trim()}`);
      }
      const message = JSON.parse(line.value) as { event: string };
      if (message.event !== event) throw new Error(`load client: expected ${event}: ${line.value}`);
      return message as T;
    } finally {
      clearTimeout(timer);
    }
  }

  go(): void {
    this.child.stdin?.write("go\n");
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}

/** Everything in one run except how its ingest processes were started. */
async function measure(
  options: FleetLoadOptions,
  processes: IngestProcess[],
  urls: string[],
  database: {
    cpuSeconds: () => number | null;
    /** null: nothing to count apart from /healthz (SQLite); a string: why counting failed. */
    storedRows: () => Promise<number | string | null>;
  },
): Promise<FleetRunFigures> {
  const client = new LoadClient({
    targets: urls,
    devices: options.devices,
    minutes: options.minutes,
    concurrency: options.concurrency,
    resendFraction: options.resendFraction,
    seed: 2026,
  });
  try {
    const ready = await client.next<FleetClientReady>("ready", 180_000);
    const cpuBefore = processes.map((ingest) => procCpu(ingest.pid).seconds);
    const dbBefore = database.cpuSeconds();
    const machineBefore = machineCpu();
    client.go();
    // A generous deadline: 20k readings/s would be a broken ingest, not a slow one.
    const report = await client.next<FleetClientReport>(
      "done",
      60_000 + (ready.readingsSent / 20_000) * 1000,
    );
    const dbAfter = database.cpuSeconds();
    const machineAfter = machineCpu();
    const ingest = await Promise.all(
      processes.map(async (server, index) => ({
        pid: server.pid,
        peakRssBytes: peakRssBytes(server.pid),
        cpuSeconds: procCpu(server.pid).seconds - (cpuBefore[index] ?? 0),
        health: await health(urls[index] ?? ""),
      })),
    );
    const dbCpuSeconds = dbBefore === null || dbAfter === null ? null : dbAfter - dbBefore;
    const busy = machineAfter.busy - machineBefore.busy;
    const problems = await check(ready, report, ingest, urls[0] ?? "");
    const counted = await database.storedRows();
    const storedRows = typeof counted === "number" ? counted : null;
    if (typeof counted === "string") problems.push(counted);
    if (storedRows !== null && storedRows !== ready.distinctReadings) {
      problems.push(`the database holds ${storedRows} readings, ${ready.distinctReadings} sent`);
    }
    return {
      batches: ready.batches,
      resends: ready.resends,
      readingsSent: ready.readingsSent,
      distinctReadings: ready.distinctReadings,
      resentReadings: ready.resentReadings,
      bodyBytes: ready.bodyBytes,
      jsonBytes: ready.jsonBytes,
      seconds: report.seconds,
      readingsPerSecond: ready.readingsSent / report.seconds,
      storedPerSecond: report.accepted / report.seconds,
      requests: report.requests,
      requestsPerSecond: report.requests / report.seconds,
      retries503: report.retries503,
      retriesNetwork: report.retriesNetwork,
      ok200: report.ok200,
      failures: report.failures,
      accepted: report.accepted,
      duplicates: report.duplicates,
      latencyMs: report.latencyMs,
      ingest,
      dbCpuSeconds,
      machine: {
        busySeconds: busy,
        othersSeconds:
          busy -
          report.cpuSeconds -
          (dbCpuSeconds ?? 0) -
          ingest.reduce((sum, server) => sum + server.cpuSeconds, 0),
        stealSeconds: machineAfter.steal - machineBefore.steal,
      },
      storedRows,
      client: {
        cpuSeconds: report.cpuSeconds,
        machineShare: report.cpuSeconds / (report.seconds * availableParallelism()),
        buildSeconds: ready.buildSeconds,
        buildCpuSeconds: ready.buildCpuSeconds,
        peakRssBytes: report.peakRssBytes,
      },
      problems,
    };
  } finally {
    client.kill();
  }
}

async function health(url: string): Promise<IngestProcessFigures["health"]> {
  try {
    const response = await fetch(`${url}/healthz`);
    if (response.status !== 200) return null;
    const body = (await response.json()) as {
      readings: number;
      duplicates: number;
      batches: number;
    };
    return { readings: body.readings, duplicates: body.duplicates, batches: body.batches };
  } catch {
    return null;
  }
}

/** The correctness checks; returns what failed. */
async function check(
  ready: FleetClientReady,
  report: FleetClientReport,
  ingest: IngestProcessFigures[],
  url: string,
): Promise<string[]> {
  const problems: string[] = [];
  const requests = ready.batches + ready.resends;
  if (report.ok200 !== requests) {
    problems.push(
      `${requests - report.ok200} of ${requests} uploads not answered 200: ${JSON.stringify(report.failures)}`,
    );
  }
  if (report.accepted !== ready.distinctReadings) {
    problems.push(`accepted ${report.accepted}, ${ready.distinctReadings} distinct readings sent`);
  }
  if (report.duplicates !== ready.resentReadings) {
    problems.push(`duplicates ${report.duplicates}, ${ready.resentReadings} readings re-sent`);
  }
  if (report.originalsNotAllAccepted > 0) {
    problems.push(`${report.originalsNotAllAccepted} first uploads not fully accepted`);
  }
  if (report.resendsNotAllDuplicates > 0) {
    problems.push(`${report.resendsNotAllDuplicates} resends not answered as all duplicates`);
  }
  if (ingest.some((server) => server.health === null)) {
    problems.push("an ingest process did not answer /healthz with 200");
  } else {
    // Per process for PostgreSQL (several share the database), per database for SQLite: one process there.
    const stored = ingest.reduce((sum, server) => sum + (server.health?.readings ?? 0), 0);
    if (stored !== ready.distinctReadings) {
      problems.push(`/healthz: ${stored} readings stored, ${ready.distinctReadings} sent`);
    }
  }
  try {
    const response = await fetch(`${url}/readings?limit=1`);
    const body = (await response.json()) as { readings?: unknown[] };
    if (response.status !== 200 || body.readings?.length !== 1) {
      problems.push(
        `GET /readings?limit=1 answered ${response.status} with ${body.readings?.length} readings`,
      );
    }
  } catch (error) {
    problems.push(`GET /readings?limit=1 failed: ${describe(error)}`);
  }
  return problems;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function runSqlite(dir: string, options: FleetLoadOptions): Promise<FleetRunFigures> {
  const dbPath = join(dir, "fleet.db");
  for (const suffix of ["", "-wal", "-shm"]) rmSync(dbPath + suffix, { force: true });
  const ingest = new IngestProcess(dbPath, {}, dir);
  try {
    const url = await ingest.url();
    return await measure(options, [ingest], [url], {
      cpuSeconds: () => null,
      storedRows: async () => null,
    });
  } finally {
    await ingest.stop();
  }
}

async function runPostgres(
  dir: string,
  cluster: PgCluster,
  options: FleetLoadOptions,
  processCount: number,
): Promise<FleetRunFigures> {
  const name = `fleet_${processCount}_${Date.now()}`;
  const url = await cluster.createDatabase(name);
  const processes: IngestProcess[] = [];
  try {
    for (let index = 0; index < processCount; index++) {
      processes.push(new IngestProcess(url, { PGPASSWORD: cluster.password }, dir));
    }
    const urls = await Promise.all(processes.map((ingest) => ingest.url()));
    const postmaster = postmasterPid(cluster.dir);
    return await measure(options, processes, urls, {
      cpuSeconds: () => (postmaster === null ? null : clusterCpuSeconds(postmaster)),
      // Also proves the readings went to PostgreSQL: an ingest without
      // PostgreSQL support may take the URL for a SQLite file name.
      storedRows: async () => {
        try {
          const rows = await cluster.query<{ n: string }>(
            name,
            "SELECT count(*) AS n FROM readings",
          );
          return Number(rows[0]?.n);
        } catch (error) {
          return `cannot count the readings in PostgreSQL: ${describe(error)}`;
        }
      },
    });
  } finally {
    await Promise.all(processes.map((ingest) => ingest.stop()));
  }
}

export async function benchFleetLoad(
  dir: string,
  options: FleetLoadOptions = fleetLoadOptionsFromEnv(),
): Promise<FleetLoadResult> {
  const runs: FleetRunResult[] = [];
  let cluster: PgCluster | null = null;
  let clusterError: string | null = null;
  try {
    for (const kind of options.runs) {
      const label = RUN_LABELS[kind];
      try {
        let figures: FleetRunFigures;
        if (kind === "sqlite") {
          figures = await runSqlite(dir, options);
        } else {
          if (clusterError !== null) throw new Error(clusterError);
          if (cluster === null) {
            try {
              cluster = await startPgCluster({ durable: true });
            } catch (error) {
              clusterError = `no PostgreSQL cluster: ${describe(error)}`;
              throw new Error(clusterError);
            }
          }
          figures = await runPostgres(dir, cluster, options, kind === "postgres-1" ? 1 : 2);
        }
        runs.push({ kind, label, ok: true, figures });
      } catch (error) {
        runs.push({ kind, label, ok: false, error: describe(error) });
      }
    }
  } finally {
    await cluster?.stop();
  }
  return { options, runs };
}

const ms = (value: number) => (value < 10 ? value.toFixed(1) : formatCount(value));

/** The `## Fleet ingest load` table of bench/README.md, one column per run. */
export function fleetLoadReport(result: FleetLoadResult): SectionReport {
  const { options } = result;
  const ok = result.runs.flatMap((run) => (run.ok ? [run] : []));
  const first = ok[0]?.figures;
  const rows: Array<[string, (figures: FleetRunFigures) => string]> = [
    [
      "readings/s sent (incl. resends)",
      (f) => `${formatCount(f.readingsPerSecond)} (${f.seconds.toFixed(2)} s)`,
    ],
    ["readings/s stored", (f) => formatCount(f.storedPerSecond)],
    ["requests/s", (f) => formatCount(f.requestsPerSecond)],
    [
      "latency p50 / p90 / p99 / max",
      (f) =>
        `${ms(f.latencyMs.p50)} / ${ms(f.latencyMs.p90)} / ${ms(f.latencyMs.p99)} / ${ms(f.latencyMs.max)} ms`,
    ],
    [
      "ingest peak RSS (`VmHWM`)",
      (f) => f.ingest.map((p) => formatMib(p.peakRssBytes)).join(" + "),
    ],
    ["ingest CPU", (f) => f.ingest.map((p) => `${p.cpuSeconds.toFixed(1)} s`).join(" + ")],
    [
      "PostgreSQL CPU (whole cluster)",
      (f) => (f.dbCpuSeconds === null ? "(in the ingest)" : `${f.dbCpuSeconds.toFixed(1)} s`),
    ],
    [
      "load generator CPU (share of the machine)",
      (f) => `${f.client.cpuSeconds.toFixed(1)} s (${(f.client.machineShare * 100).toFixed(0)} %)`,
    ],
    ["other processes' CPU", (f) => `${f.machine.othersSeconds.toFixed(1)} s`],
    [
      "answers 200; accepted / duplicates",
      (f) =>
        `${formatCount(f.ok200)} of ${formatCount(f.batches + f.resends)}; ${formatCount(f.accepted)} / ${formatCount(f.duplicates)}`,
    ],
  ];
  const table = {
    header: ["", ...result.runs.map((run) => run.label)],
    rows: rows.map(([name, value]) => [
      name,
      ...result.runs.map((run) => (run.ok ? value(run.figures) : "(failed)")),
    ]),
  };
  const notes = [
    `fleet load: ${formatCount(options.devices)} devices x ${options.minutes} min, ${Math.round(options.resendFraction * 100)} % re-sent under a new idempotency key, ${options.concurrency} requests in flight`,
  ];
  if (first !== undefined) {
    notes.push(
      `per run: ${formatCount(first.batches)} batches + ${formatCount(first.resends)} resends = ${formatCount(first.readingsSent)} readings sent, ${formatCount(first.distinctReadings)} distinct; ` +
        `${formatMib(first.bodyBytes)} gzip'd (${(first.bodyBytes / first.readingsSent).toFixed(1)} B/reading; JSON ${formatMib(first.jsonBytes)}), built in ${first.client.buildSeconds.toFixed(1)} s`,
    );
  }
  for (const { label, figures: f } of ok) {
    notes.push(
      `${label}: steal ${f.machine.stealSeconds.toFixed(1)} s; 503 retries ${f.retries503}, network retries ${f.retriesNetwork}; ` +
        `expected ${formatCount(f.distinctReadings)} / ${formatCount(f.resentReadings)} accepted / duplicates` +
        (Object.keys(f.failures).length === 0 ? "" : `; failures ${JSON.stringify(f.failures)}`),
    );
  }
  const problems = result.runs.flatMap((run) =>
    run.ok
      ? run.figures.problems.map((problem) => `${run.label}: ${problem}`)
      : [`${run.label}: ${run.error}`],
  );
  return { blocks: [{ name: "fleet-load", tables: [table] }], notes, problems };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = mkdtempSync(join(tmpdir(), "sensord-fleet-"));
  try {
    printReport(fleetLoadReport(await benchFleetLoad(dir)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
