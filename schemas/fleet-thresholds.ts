import { type Static, Type } from "@sinclair/typebox";
import { ThresholdEntry } from "./config.js";
import { MAX_FLEET_RULES } from "./fleet-rules.js";
import { WireName } from "./vocabulary.js";

/**
 * The fleet's desired thresholds (issue 16): the body of
 * `PUT /fleet/thresholds` on sensord-ingest and the `thresholds` of
 * `GET /fleet/desired`, which a Pi applies. A rule is the device's own
 * `[[thresholds]]` table in its JSON form, so one schema and one check
 * (fleetRuleProblems in fleet-rules.ts) decide on both sides whether a set
 * is usable.
 */

export const FleetRule = ThresholdEntry;
export type FleetRule = Static<typeof FleetRule>;

export const FleetThresholdsBody = Type.Object(
  {
    thresholds: Type.Array(FleetRule, {
      maxItems: MAX_FLEET_RULES,
      description:
        "The whole set for this group or device; [] means the fleet sets no rules here (the device falls back)",
    }),
    changed_by: Type.Optional(
      WireName({ minLength: 1, description: "Who made the change, for the audit list" }),
    ),
  },
  {
    $id: "sensord.fleet-thresholds.v1",
    additionalProperties: false,
    description: "PUT /fleet/thresholds?group=G|device=D",
  },
);
export type FleetThresholdsBody = Static<typeof FleetThresholdsBody>;
