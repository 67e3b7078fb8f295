/**
 * `x-sensord-thresholds`: what a Pi did with its desired fleet thresholds,
 * sent on every upload (POST /ingest, /ingest/alerts, /proxyLambda). A
 * header and not a body field: a batch's id is derived from its body, and a
 * batch sent again must stay byte-identical whatever was applied meanwhile.
 *
 * The value is an RFC 8941 item, a token with parameters:
 * `applied;etag="E"` or `refused;etag="E";reason="..."`.
 */

export const THRESHOLD_REPORT_HEADER = "x-sensord-thresholds";
/** Long enough for a validation message naming a key; a header is no place for more. */
export const MAX_REPORT_REASON = 200;

export type ThresholdReportState = "applied" | "refused";

export interface ThresholdReportValue {
  state: ThresholdReportState;
  /** The etag of the desired set (GET /fleet/desired) that was applied or refused. */
  etag: string;
  /** Why it was refused; null when applied. */
  reason: string | null;
}

/** Printable ASCII, as an RFC 8941 string may hold. */
const STRING_CHARS = /^[\x20-\x7e]*$/;

/** The header's value. A reason is cut to MAX_REPORT_REASON and non-ASCII characters become "?". */
export function formatThresholdReport(report: ThresholdReportValue): string {
  const parts = [report.state, `etag=${quote(report.etag)}`];
  if (report.state === "refused") {
    const reason = (report.reason ?? "").replace(/[^\x20-\x7e]/g, "?").slice(0, MAX_REPORT_REASON);
    parts.push(`reason=${quote(reason)}`);
  }
  return parts.join(";");
}

function quote(text: string): string {
  return `"${text.replace(/[\\"]/g, "\\$&")}"`;
}

type BareItem = string | number | boolean | { token: string };

const KEY = /[a-z*][a-z0-9_.*-]*/y;
const TOKEN = /[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*/y;
const NUMBER = /-?\d{1,15}(?:\.\d{1,3})?/y;

/**
 * The report in a header value, or null when the value is no RFC 8941 item
 * of this shape: an unknown state, no string `etag`, a refusal without a
 * string `reason`, a reason over MAX_REPORT_REASON characters. Unknown
 * parameters are ignored, as RFC 8941 asks.
 */
export function parseThresholdReport(value: string): ThresholdReportValue | null {
  const reader = { text: value.trim(), at: 0 };
  const state = bareItem(reader);
  if (state === null || typeof state !== "object") return null;
  const params = new Map<string, BareItem>();
  while (reader.text[reader.at] === ";") {
    reader.at++;
    while (reader.text[reader.at] === " ") reader.at++;
    const key = match(reader, KEY);
    if (key === null) return null;
    let item: BareItem = true;
    if (reader.text[reader.at] === "=") {
      reader.at++;
      const parsed = bareItem(reader);
      if (parsed === null) return null;
      item = parsed;
    }
    params.set(key, item);
  }
  if (reader.at !== reader.text.length) return null;
  const etag = params.get("etag");
  const reason = params.get("reason");
  if (typeof etag !== "string" || etag === "") return null;
  if (state.token === "applied") return { state: "applied", etag, reason: null };
  if (state.token !== "refused" || typeof reason !== "string") return null;
  if (reason.length > MAX_REPORT_REASON) return null;
  return { state: "refused", etag, reason };
}

function bareItem(reader: { text: string; at: number }): BareItem | null {
  const first = reader.text[reader.at];
  if (first === '"') return quotedString(reader);
  if (first === "?") {
    const flag = reader.text[reader.at + 1];
    reader.at += 2;
    return flag === "1" ? true : flag === "0" ? false : null;
  }
  const number = match(reader, NUMBER);
  if (number !== null) return Number(number);
  const token = match(reader, TOKEN);
  return token === null ? null : { token };
}

function quotedString(reader: { text: string; at: number }): string | null {
  let text = "";
  for (let at = reader.at + 1; at < reader.text.length; at++) {
    const char = reader.text[at] ?? "";
    if (char === '"') {
      reader.at = at + 1;
      return text;
    }
    if (char === "\\") {
      const escaped = reader.text[++at];
      if (escaped !== '"' && escaped !== "\\") return null;
      text += escaped;
    } else if (STRING_CHARS.test(char)) text += char;
    else return null;
  }
  return null;
}

function match(reader: { text: string; at: number }, pattern: RegExp): string | null {
  pattern.lastIndex = reader.at;
  const found = pattern.exec(reader.text);
  if (found === null) return null;
  reader.at = pattern.lastIndex;
  return found[0];
}
