import type { IngestOutcome } from "../types.js";
import type { IngestRequest, SqliteIngest } from "./ingest.js";

/** Requests per transaction: bounds how long one commit holds the event loop (~240 readings each). */
const MAX_GROUP = 64;

interface Waiting extends IngestRequest {
  resolve(outcome: IngestOutcome): void;
  reject(error: unknown): void;
}

/**
 * Commits the ingest requests that became ready in the same turn of the
 * event loop together. A commit writes every page the transaction touched
 * to the WAL; 32 uploads in flight touch mostly the same index pages, so
 * one commit for all of them writes far less than 32 (profiled: commits
 * and page writes were half of the ingest's CPU at 1,000 devices). Each
 * request still succeeds or fails on its own (a savepoint each); none
 * waits longer than the current turn.
 */
export class GroupCommit {
  private pending: Waiting[] = [];
  private scheduled = false;

  constructor(private readonly writes: SqliteIngest) {}

  add(request: IngestRequest): Promise<IngestOutcome> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ...request, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // setImmediate runs after the poll phase: every body inflated in this turn is in the group.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const group = this.pending.splice(0, MAX_GROUP);
    if (this.pending.length > 0) this.schedule();
    let results: Array<IngestOutcome | Error>;
    try {
      results = this.writes.ingestGroup(group);
    } catch (error) {
      for (const waiting of group) waiting.reject(error);
      return;
    }
    for (const [index, waiting] of group.entries()) {
      const outcome = results[index];
      if (outcome === undefined || outcome instanceof Error) waiting.reject(outcome);
      else waiting.resolve(outcome);
    }
  }
}
