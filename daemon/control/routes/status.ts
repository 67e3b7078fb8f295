import { type ControlRoute, ok } from "../router.js";
import type { ControlDeps } from "./deps.js";

export function statusRoutes(deps: ControlDeps): ControlRoute[] {
  return [{ method: "GET", path: "/v1/status", handle: () => ok(deps.status()) }];
}
