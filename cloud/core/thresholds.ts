import { createHash } from "node:crypto";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { ERROR_CODES } from "../../core/errors.js";
import { fleetRuleProblems } from "../../schemas/fleet-rules.js";
import { FleetThresholdsBody } from "../../schemas/fleet-thresholds.js";
import { PRINTABLE } from "../../schemas/names.js";
import type { ThresholdReport, ThresholdTarget, ThresholdVersion } from "../store/types.js";
import { decodeJson, jsonHeadOnly } from "./decode.js";
import { HttpError } from "./errors.js";
import { type CoreHeaders, jsonResponse } from "./exchange.js";
import { badParam } from "./query.js";
import type { Route, RouteContext } from "./route.js";
import { listErrors } from "./validate.js";

/**
 * The fleet's desired thresholds (issue 16): a set per group and per
 * device, every version kept; `GET /fleet/desired` is what a Pi polls each
 * sync cycle, cheap with `If-None-Match`. Whether a Pi applied its set comes
 * back with its uploads (threshold-report.ts) and is shown by
 * `GET /fleet/thresholds/status`.
 */

const bodyCheck = TypeCompiler.Compile(FleetThresholdsBody);
const PRINTABLE_NAME = new RegExp(PRINTABLE);
const MAX_NAME = 64;

/** The desired set when the fleet sets none: the device keeps to its own config. */
export const NO_SET_ETAG = "none";

/**
 * `d<version>-<8 hex>` / `g<version>-<8 hex>`, the hex from sha256 of
 * "scope\nname": a device's and its group's etag never coincide, and a new
 * version always changes it. Opaque to devices, but fixed: they compare it.
 */
export function thresholdsEtag(target: ThresholdTarget, version: number): string {
  const hash = createHash("sha256").update(`${target.scope}\n${target.name}`).digest("hex");
  return `${target.scope === "device" ? "d" : "g"}${version}-${hash.slice(0, 8)}`;
}

/** `PUT /fleet/thresholds?group=G|device=D`: the next version of the target's set. */
export const putThresholdsRoute: Route = {
  method: "PUT",
  auth: true,
  beforeBody: jsonHeadOnly,
  async handle(request, context) {
    const target = parseTarget(request.query);
    const ifVersion = await expectedVersion(request.headers, target, context);
    const body = await decodeJson(request.headers, request.body, context.maxBody);
    if (!bodyCheck.Check(body)) throw invalidSet(schemaProblems(body));
    const problems = fleetRuleProblems(body.thresholds);
    if (problems.length > 0) throw invalidSet(problems);
    const outcome = await context.store.putThresholds(
      target,
      { thresholds: body.thresholds, changedBy: body.changed_by ?? null, changedAt: context.now() },
      ifVersion,
    );
    if (outcome.kind === "conflict") throw preconditionFailed(target, outcome.current);
    const etag = thresholdsEtag(target, outcome.version);
    return jsonResponse(
      200,
      { scope: target.scope, name: target.name, version: outcome.version, etag },
      `${target.scope} ${target.name} version ${outcome.version}: ${body.thresholds.length} rules`,
      { etag: `"${etag}"` },
    );
  },
};

/** `GET /fleet/thresholds?group=G|device=D`: the target's latest set. */
export const getThresholdsRoute: Route = {
  method: "GET",
  auth: true,
  async handle(request, context) {
    const target = parseTarget(request.query);
    const latest = (await context.store.latestThresholds(target.scope, [target.name])).get(
      target.name,
    );
    if (latest === undefined) {
      throw new HttpError(
        404,
        ERROR_CODES.ingest.thresholdsNotSet,
        `no thresholds were ever set for ${target.scope} "${target.name}"; PUT /fleet/thresholds?${target.scope}=... sets them`,
        { details: { scope: target.scope, name: target.name } },
      );
    }
    const etag = thresholdsEtag(target, latest.version);
    return jsonResponse(
      200,
      { scope: target.scope, name: target.name, ...versionJson(target, latest) },
      `version ${latest.version}`,
      { etag: `"${etag}"` },
    );
  },
};

/** `GET /fleet/thresholds/history?group=G|device=D`: every version, newest first (the audit list). */
export const thresholdHistoryRoute: Route = {
  method: "GET",
  auth: true,
  async handle(request, context) {
    const target = parseTarget(request.query);
    const versions = await context.store.thresholdHistory(target);
    return jsonResponse(
      200,
      {
        scope: target.scope,
        name: target.name,
        versions: versions.map((version) => versionJson(target, version)),
      },
      `${versions.length} versions`,
    );
  },
};

/**
 * `GET /fleet/desired?device=D&group=G`: the set a Pi applies, its own
 * before its group's. `ETag` and `If-None-Match` make an unchanged set a
 * 304 without a body; `no-cache` keeps caches between (API Gateway, a
 * proxy) from answering for the ingest.
 */
export const desiredRoute: Route = {
  method: "GET",
  auth: true,
  async handle(request, context) {
    const params = knownParams(request.query, ["device", "group"]);
    const device = params.get("device");
    if (device === undefined) {
      throw badParam("device", 'parameter "device" is required: the device asking for its set');
    }
    const group = params.get("group");
    const desired = await desiredSets(context, group, [device]);
    const { source, set } = desired.of(device);
    const etag = set === null ? NO_SET_ETAG : set.etag;
    const headers = { etag: `"${etag}"`, "cache-control": "no-cache" };
    if (etagListMatches(request.headers["if-none-match"], etag, "weak")) {
      return { status: 304, headers, body: "", note: `${device}: ${etag} unchanged` };
    }
    return jsonResponse(
      200,
      {
        device,
        source,
        version: set?.version.version ?? 0,
        etag,
        thresholds: set?.version.thresholds ?? [],
      },
      `${device}: ${etag}`,
      headers,
    );
  },
};

/** `GET /fleet/thresholds/status?group=G`: per device of the group, whether it runs its desired set. */
export const thresholdStatusRoute: Route = {
  method: "GET",
  auth: true,
  async handle(request, context) {
    const params = knownParams(request.query, ["group"]);
    const group = params.get("group");
    if (group === undefined) throw badParam("group", 'parameter "group" is required');
    const devices = (await context.store.devices({ group }, context.now())).map(
      (summary) => summary.device,
    );
    const [desired, reports] = await Promise.all([
      desiredSets(context, group, devices),
      context.store.thresholdReports(devices),
    ]);
    const status = devices.map((device) =>
      deviceStatus(device, group, desired.of(device).set?.etag ?? NO_SET_ETAG, reports.get(device)),
    );
    return jsonResponse(200, { group, devices: status }, `${status.length} devices`);
  },
};

function deviceStatus(
  device: string,
  group: string,
  desiredEtag: string,
  report: ThresholdReport | undefined,
) {
  const current = report?.etag === desiredEtag;
  return {
    device,
    group,
    desired_etag: desiredEtag,
    reported_etag: report?.etag ?? null,
    state: !current ? "pending" : report?.state === "refused" ? "refused" : "in_sync",
    // An old refusal says nothing about the set the device should run now.
    reason: current ? (report?.reason ?? null) : null,
    reported_at: report === undefined ? null : new Date(report.reportedAt).toISOString(),
  };
}

interface DesiredSet {
  etag: string;
  version: ThresholdVersion;
}

/** The device sets of `devices` and the set of `group`, read once for all of them. */
async function desiredSets(
  context: RouteContext,
  group: string | undefined,
  devices: readonly string[],
) {
  const [own, groups] = await Promise.all([
    context.store.latestThresholds("device", devices),
    group === undefined
      ? new Map<string, ThresholdVersion>()
      : context.store.latestThresholds("group", [group]),
  ]);
  const groupVersion = group === undefined ? undefined : groups.get(group);
  const groupSet: DesiredSet | null =
    group === undefined || groupVersion === undefined
      ? null
      : {
          etag: thresholdsEtag({ scope: "group", name: group }, groupVersion.version),
          version: groupVersion,
        };
  return {
    of(device: string): { source: "device" | "group" | "none"; set: DesiredSet | null } {
      const version = own.get(device);
      if (version !== undefined) {
        const etag = thresholdsEtag({ scope: "device", name: device }, version.version);
        return { source: "device", set: { etag, version } };
      }
      return groupSet === null ? { source: "none", set: null } : { source: "group", set: groupSet };
    },
  };
}

function versionJson(target: ThresholdTarget, version: ThresholdVersion) {
  return {
    version: version.version,
    etag: thresholdsEtag(target, version.version),
    thresholds: version.thresholds,
    changed_at: new Date(version.changedAt).toISOString(),
    changed_by: version.changedBy,
  };
}

/** Exactly one of `group` and `device`. */
function parseTarget(query: URLSearchParams): ThresholdTarget {
  const params = knownParams(query, ["group", "device"]);
  const scopes = (["group", "device"] as const).filter((scope) => params.has(scope));
  const [scope] = scopes;
  if (scopes.length !== 1 || scope === undefined) {
    throw badParam(
      scopes[1] ?? "group",
      'give exactly one of "group" and "device": a set belongs to a group or to one device',
    );
  }
  return { scope, name: params.get(scope) ?? "" };
}

/**
 * The parameters by name, each at most 64 printable characters as devices
 * send them (an empty group or device id is one the ingest stores too);
 * unknown or repeated ones refused.
 */
function knownParams(query: URLSearchParams, known: readonly string[]): Map<string, string> {
  const params = new Map<string, string>();
  for (const name of new Set(query.keys())) {
    if (!known.includes(name)) {
      throw badParam(name, `unknown parameter "${name}"; known: ${known.join(", ")}`);
    }
    const values = query.getAll(name);
    const value = values[0] ?? "";
    if (values.length > 1) throw badParam(name, `parameter "${name}" given twice`);
    if (value.length > MAX_NAME || !PRINTABLE_NAME.test(value)) {
      throw badParam(name, `"${name}" must be at most ${MAX_NAME} printable characters`);
    }
    params.set(name, value);
  }
  return params;
}

/**
 * The version `If-Match` says the client edited (null: no header, store
 * unconditionally). An etag of another target, or `*` when nothing was
 * ever set, cannot be current: 412 before the body is even parsed.
 */
async function expectedVersion(
  headers: CoreHeaders,
  target: ThresholdTarget,
  context: RouteContext,
): Promise<number | null> {
  const ifMatch = headers["if-match"];
  // `If-None-Match: *` creates the first set only: two operators creating
  // one at once must not silently replace each other's.
  const createOnly = headers["if-none-match"]?.trim() === "*";
  if (ifMatch === undefined && !createOnly) return null;
  const latest = (await context.store.latestThresholds(target.scope, [target.name])).get(
    target.name,
  );
  const current = latest?.version ?? 0;
  if (createOnly) {
    if (current === 0) return 0;
    throw preconditionFailed(target, current, "if-none-match");
  }
  if (current > 0 && etagListMatches(ifMatch, thresholdsEtag(target, current), "strong")) {
    return current;
  }
  throw preconditionFailed(target, current, "if-match");
}

function preconditionFailed(
  target: ThresholdTarget,
  current: number,
  header: "if-match" | "if-none-match" = "if-match",
): HttpError {
  const etag = current === 0 ? null : thresholdsEtag(target, current);
  const what = `${target.scope} "${target.name}"`;
  return new HttpError(
    412,
    ERROR_CODES.ingest.preconditionFailed,
    header === "if-none-match"
      ? `"If-None-Match: *" creates a first set, but ${what} has one already (now "${etag}"): someone created it; GET it and redo the change`
      : etag === null
        ? `"If-Match" names a set, but ${what} has none yet; send no If-Match to create it`
        : `"If-Match" is not the current set of ${what} (now "${etag}"): someone changed it; GET it again and redo the change`,
    { details: { header, etag } },
  );
}

/**
 * Whether an `If-Match` / `If-None-Match` value (`*` or a list of quoted
 * etags) names `etag`. If-Match compares strongly (a `W/` tag never
 * matches), If-None-Match weakly (RFC 9110 section 13.1).
 */
function etagListMatches(
  header: string | undefined,
  etag: string,
  comparison: "strong" | "weak",
): boolean {
  if (header === undefined) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((item) => {
    const tag = item.trim();
    const weak = tag.startsWith("W/");
    if (weak && comparison === "strong") return false;
    return (weak ? tag.slice(2) : tag) === `"${etag}"`;
  });
}

/** One reason a set is refused; `index` is null for what belongs to no rule (e.g. `changed_by`). */
interface SetProblem {
  index: number | null;
  key: string;
  message: string;
}

/** The schema's errors as rule problems: `/thresholds/2/unit` becomes `thresholds[2].unit`, one per key. */
function schemaProblems(body: unknown): SetProblem[] {
  const problems = new Map<string, SetProblem>();
  for (const error of listErrors(FleetThresholdsBody, body)) {
    const [, list = "", index, ...rest] = error.field.split("/");
    const rule = list === "thresholds" && index !== undefined ? Number(index) : Number.NaN;
    const key = Number.isInteger(rule)
      ? `thresholds[${rule}]${rest.map((part) => `.${part}`).join("")}`
      : error.field.slice(1).replaceAll("/", ".") || "(body)";
    if (!problems.has(key)) {
      problems.set(key, {
        index: Number.isInteger(rule) ? rule : null,
        key,
        message: error.message,
      });
    }
  }
  return [...problems.values()];
}

/** 422: the set is refused whole, nothing stored. */
function invalidSet(problems: readonly SetProblem[]): HttpError {
  const first = problems[0] ?? { key: "(body)", message: "invalid threshold set" };
  return new HttpError(
    422,
    ERROR_CODES.ingest.thresholdsInvalid,
    `${first.key}: ${first.message} (the whole set is refused; nothing was stored)`,
    { details: { key: first.key, problems } },
  );
}
