import type { AlertBatch } from "../../schemas/alert-batch.js";
import type { CloudStore } from "../store/types.js";
import type { CoreHead, CoreRequest, CoreResponse } from "./exchange.js";

/** What every route may use. */
export interface RouteContext {
  store: CloudStore;
  /** Byte limit for a request body, on the wire and after gunzip. */
  maxBody: number;
  /** Epoch ms; a clock the tests can set. */
  now(): number;
  /** Told of the alert events a request stored (see IngestCoreOptions). */
  onAlertsStored?: AlertsStoredHook;
  /** This core's counters since it started, shown by /healthz. */
  counters: { thresholdReportsMalformed: number };
}

/**
 * Called after the store kept `storedIds` (events new to it, in batch order)
 * of `batch`, before the request is answered. It must not throw: the events
 * are stored already, so a failure is the hook's own to log.
 */
export type AlertsStoredHook = (batch: AlertBatch, storedIds: readonly string[]) => Promise<void>;

/**
 * One endpoint. `auth` is false only for /healthz (liveness probes need no
 * secret: it reveals only counts). A route with `beforeBody` takes a body:
 * it checks the head (and may answer, e.g. a replay) before the body is read.
 */
export interface Route {
  method: "GET" | "POST" | "PUT";
  auth: boolean;
  beforeBody?(head: CoreHead, context: RouteContext): Promise<CoreResponse | null>;
  handle(request: CoreRequest, context: RouteContext): Promise<CoreResponse>;
}

/** A route at its path: `ingestRoute` answers at two. */
export interface Endpoint extends Route {
  /** A pattern for core/http/router.ts, e.g. `/readings/series`. */
  path: string;
}
