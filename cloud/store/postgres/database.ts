import type pg from "pg";
import { ERROR_CODES } from "../../../core/errors.js";
import { type ConnectTarget, connectError, PostgresStoreError } from "./errors.js";

/** Clients whose ROLLBACK failed: their session state is unknown, so the pool must not reuse them. */
const broken = new WeakSet<pg.ClientBase>();

/**
 * The pool plus the bookkeeping close() needs: how much work is in flight.
 * Every store method runs through `use`, so close() can refuse new work,
 * wait for what runs, and only then end the pool.
 */
export class Database {
  private active = 0;
  private idle: Array<() => void> = [];
  private closed = false;

  constructor(
    readonly pool: pg.Pool,
    readonly target: ConnectTarget,
  ) {}

  get location(): string {
    return this.target.location;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Runs `job` on a pool client, counted as work in flight. */
  async use<T>(job: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.track(async () => {
      const client = await this.connect();
      let failure: Error | undefined;
      try {
        return await job(client);
      } catch (error) {
        if (broken.has(client)) failure = error instanceof Error ? error : new Error(String(error));
        throw error;
      } finally {
        client.release(failure);
      }
    });
  }

  /** Counts `work` as in flight; refused once close() began. */
  async track<T>(work: () => Promise<T>): Promise<T> {
    this.refuseWhenClosed();
    this.active++;
    try {
      return await work();
    } finally {
      this.active--;
      if (this.active === 0) for (const wake of this.idle.splice(0)) wake();
    }
  }

  /** A client outside `use`, for work that outlives one call (a CSV cursor); the caller releases it. */
  async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (error) {
      throw connectError(error, this.target);
    }
  }

  refuseWhenClosed(): void {
    if (this.closed) {
      throw new PostgresStoreError(
        ERROR_CODES.postgres.closed,
        this.location,
        "the store is closed",
      );
    }
  }

  /** Refuses new work and resolves when the work in flight has finished. */
  async quiesce(): Promise<void> {
    this.closed = true;
    if (this.active === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }
}

/**
 * BEGIN, `work`, COMMIT; ROLLBACK when `work` throws. A client whose
 * ROLLBACK fails is marked broken, so `Database.use` destroys it instead of
 * handing an aborted transaction to the next caller.
 */
export async function inTransaction<T>(client: pg.ClientBase, work: () => Promise<T>): Promise<T> {
  await client.query("BEGIN");
  try {
    const result = await work();
    await client.query("COMMIT");
    return result;
  } catch (error) {
    try {
      await client.query("ROLLBACK");
    } catch {
      broken.add(client);
    }
    throw error;
  }
}
