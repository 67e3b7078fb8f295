import type { CloudStore } from "../store/types.js";
import type { CoreHead, CoreRequest, CoreResponse } from "./exchange.js";

/** What every route may use. */
export interface RouteContext {
  store: CloudStore;
  /** Byte limit for a request body, on the wire and after gunzip. */
  maxBody: number;
  /** Epoch ms; a clock the tests can set. */
  now(): number;
}

/**
 * One endpoint. `auth` is false only for /healthz (liveness probes need no
 * secret: it reveals only counts). A route with `beforeBody` takes a body:
 * it checks the head (and may answer, e.g. a replay) before the body is read.
 */
export interface Route {
  method: "GET" | "POST";
  auth: boolean;
  beforeBody?(head: CoreHead, context: RouteContext): Promise<CoreResponse | null>;
  handle(request: CoreRequest, context: RouteContext): Promise<CoreResponse>;
}
