import type { Command } from "commander";
import type { SyncReport } from "../../daemon/control/status.js";
import { configFor, print } from "../context.js";
import { controlRequest, DaemonDown, replyProblems } from "../control-client.js";
import { CliExit, EXIT } from "../exit.js";
import { examples } from "../help.js";
import { type Progress, progressBar, progressLine } from "../progress.js";

/** How often `--wait` asks for progress. */
const POLL_MS = 250;

export function registerSyncCommands(program: Command): void {
  const now = program
    .command("sync")
    .description("uploads")
    .command("now")
    .description("upload pending readings now instead of at the next scheduled time")
    .option("--wait", "wait until the upload ends, showing progress (exit 1 if it fails)")
    .action(async (options: { wait?: boolean }) => {
      const config = configFor(program);
      const socket = config.control.socket;
      if (socket === null) {
        throw new CliExit(EXIT.unavailable, 'the control socket is off ([control] socket = "")');
      }
      try {
        if (options.wait) await syncAndWait(socket);
        else {
          const before = await post(socket, false);
          print(`upload started: ${before.pending} readings pending`);
        }
      } catch (error) {
        if (error instanceof DaemonDown) throw new CliExit(EXIT.unavailable, error.message);
        throw error;
      }
    });
  examples(now, ["sync now", "sync now --wait"]);
}

async function post(socket: string, wait: boolean): Promise<SyncReport> {
  const answer = await controlRequest(
    socket,
    "POST",
    `/v1/sync${wait ? "?wait=1" : ""}`,
    undefined,
    {
      timeoutMs: wait ? null : undefined,
    },
  );
  if (answer.status !== 200 || !isSyncReport(answer.body)) {
    throw new CliExit(EXIT.failure, replyProblems(answer.body).error);
  }
  return answer.body;
}

async function syncAndWait(socket: string): Promise<void> {
  const first = await controlRequest(socket, "GET", "/v1/sync");
  if (first.status !== 200 || !isSyncReport(first.body)) {
    throw new CliExit(EXIT.failure, replyProblems(first.body).error);
  }
  const start = first.body;
  const startedAt = performance.now();
  const tty = process.stdout.isTTY === true;
  const show = (report: SyncReport) => {
    const uploaded = (report.uploadedTotal ?? 0) - (start.uploadedTotal ?? 0);
    const seconds = (performance.now() - startedAt) / 1000;
    const progress: Progress = {
      uploaded,
      pending: report.pending,
      rate: seconds > 0 ? uploaded / seconds : 0,
    };
    if (tty) process.stdout.write(`\r${progressBar(progress)}\u001b[K`);
    else print(progressLine(progress));
  };
  let finished = false;
  const done = post(socket, true).finally(() => {
    finished = true;
  });
  // Progress comes over a second connection while the first waits for the cycle to end.
  while (!finished) {
    const answer = await controlRequest(socket, "GET", "/v1/sync").catch(() => null);
    if (answer !== null && answer.status === 200 && isSyncReport(answer.body) && !finished)
      show(answer.body);
    await Promise.race([
      done.catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, POLL_MS)),
    ]);
  }
  const end = await done;
  show(end);
  if (tty) process.stdout.write("\n");
  if (end.lastError !== null) {
    throw new CliExit(
      EXIT.failure,
      `upload failed: ${end.lastError}; ${end.pending} readings kept, sensord retries by itself${end.nextAttemptAt === null ? "" : ` at ${end.nextAttemptAt}`}`,
    );
  }
  print(
    `done: ${(end.uploadedTotal ?? 0) - (start.uploadedTotal ?? 0)} readings uploaded, ${end.pending} pending`,
  );
}

function isSyncReport(value: unknown): value is SyncReport {
  return (
    typeof value === "object" &&
    value !== null &&
    "pending" in value &&
    typeof value.pending === "number" &&
    "endpoint" in value
  );
}
