import { checkFleetThresholdsBody } from "../../schemas/compiled/validators.js";
import type { SensorConfig, ThresholdRule } from "../../schemas/config-types.js";
import { fleetRuleProblems } from "../../schemas/fleet-rules.js";
import { childKey, Problems } from "../config/problems.js";
import { resolveRule } from "../config/thresholds.js";

export const FLEET_SOURCES = ["device", "group", "none"] as const;
export type FleetSource = (typeof FLEET_SOURCES)[number];

/** A desired set this Pi can run: every rule resolved against its sensors. */
export interface FleetSet {
  etag: string;
  source: FleetSource;
  version: number;
  rules: ThresholdRule[];
  /** The `thresholds` array as received, for the store. */
  received: unknown[];
}

export type DesiredCheck =
  | { ok: true; set: FleetSet }
  | { ok: false; etag: string; reason: string };

/**
 * A `GET /fleet/desired` answer checked whole before anything of it is
 * applied: its shape, the compiled body check (no TypeBox at run time),
 * fleetRuleProblems (the checks the fleet made too), then each rule resolved
 * exactly as a `[[thresholds]]` entry of the config file (units convertible
 * to the channel's, sensor ids that exist, ranges). All rules or none.
 * `headerEtag` names the set when the body does not.
 */
export function checkDesired(
  body: unknown,
  headerEtag: string | null,
  sensors: readonly SensorConfig[],
): DesiredCheck {
  const fields = typeof body === "object" && body !== null ? body : {};
  const etag = "etag" in fields && typeof fields.etag === "string" ? fields.etag : headerEtag;
  const refuse = (reason: string): DesiredCheck => ({ ok: false, etag: etag ?? "", reason });
  const source =
    "source" in fields ? FLEET_SOURCES.find((known) => known === fields.source) : undefined;
  const version = "version" in fields ? fields.version : undefined;
  const thresholds = "thresholds" in fields ? fields.thresholds : undefined;
  if (etag === null || etag === "" || source === undefined || !Number.isSafeInteger(version)) {
    return refuse("not a desired set: etag, source and version expected");
  }
  if (!Array.isArray(thresholds) || !checkFleetThresholdsBody({ thresholds })) {
    return refuse("thresholds do not match sensord.fleet-thresholds.v1");
  }
  const first = fleetRuleProblems(thresholds)[0];
  if (first !== undefined) return refuse(`${first.key}: ${first.message}`);
  const problems = new Problems();
  const rules: ThresholdRule[] = [];
  thresholds.forEach((entry: unknown, index) => {
    const rule = resolveRule(entry, childKey("thresholds", index), sensors, problems);
    if (rule !== null) rules.push(rule);
  });
  const problem = problems.list[0];
  if (problem !== undefined) return refuse(`${problem.key}: ${problem.message}`);
  return {
    ok: true,
    set: { etag, source, version: Number(version), rules, received: thresholds },
  };
}
