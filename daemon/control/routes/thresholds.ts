import {
  effectiveRules,
  type OverrideOutcome,
  removeRule,
  resetOverride,
  setOverride,
} from "../overrides.js";
import { type ControlReply, type ControlRoute, ok, problemReply } from "../router.js";
import { checkBody, RULE_SLOT_BODY, THRESHOLD_RULE_BODY } from "../wire.js";
import type { ControlDeps } from "./deps.js";

/** `sensorctl threshold ...`: every change is stored first, then applied to the running engine. */
export function thresholdRoutes(deps: ControlDeps): ControlRoute[] {
  const reply = (outcome: OverrideOutcome): ControlReply => {
    if (!outcome.ok) return problemReply(outcome.status, outcome.error, outcome.problems);
    deps.applyRules();
    return ok({ message: outcome.message, warnings: outcome.warnings ?? [], ...outcome.effective });
  };
  return [
    {
      method: "GET",
      path: "/v1/thresholds",
      handle: () => ok(effectiveRules(deps.overrides())),
    },
    {
      method: "PUT",
      path: "/v1/thresholds",
      handle: async ({ body }) => {
        const rule = await checkBody(THRESHOLD_RULE_BODY, body);
        if (!rule.ok) return problemReply(400, rule.error);
        return reply(setOverride(deps.overrides(), rule.value));
      },
    },
    {
      method: "POST",
      path: "/v1/thresholds/remove",
      handle: async ({ body }) => {
        const slot = await checkBody(RULE_SLOT_BODY, body);
        if (!slot.ok) return problemReply(400, slot.error);
        return reply(removeRule(deps.overrides(), slot.value));
      },
    },
    {
      method: "POST",
      path: "/v1/thresholds/reset",
      handle: async ({ body }) => {
        const slot = await checkBody(RULE_SLOT_BODY, body);
        if (!slot.ok) return problemReply(400, slot.error);
        return reply(resetOverride(deps.overrides(), slot.value));
      },
    },
  ];
}
