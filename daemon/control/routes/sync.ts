import { type ControlRoute, ok, problemReply } from "../router.js";
import type { ControlDeps } from "./deps.js";

const NO_SYNC = "uploads are off: the config has no [sync] section";

/** `sensorctl sync now [--wait]`: POST starts a cycle (`?wait=1` answers when it ends); GET is for progress. */
export function syncRoutes(deps: ControlDeps): ControlRoute[] {
  return [
    {
      method: "GET",
      path: "/v1/sync",
      handle: () => {
        const status = deps.syncStatus();
        return status === null ? problemReply(409, NO_SYNC) : ok(status);
      },
    },
    {
      method: "POST",
      path: "/v1/sync",
      handle: async ({ query }) => {
        const cycle = deps.syncNow();
        if (cycle === null) return problemReply(409, NO_SYNC);
        if (query.get("wait") === "1") await cycle;
        else cycle.catch(() => undefined);
        return ok(deps.syncStatus());
      },
    },
  ];
}
