import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

/**
 * AWS Signature Version 4 checked as the service does it, from the request
 * as it arrived: the canonical request (method, URI-encoded path, sorted
 * query, the signed headers, the body's SHA-256), the string to sign, and
 * the HMAC chain from the secret over date, region and service. Follows
 * docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html.
 */

export interface SigningKeys {
  region: string;
  service: string;
  /** Access key id -> secret access key. */
  secrets: ReadonlyMap<string, string>;
}

/** A refusal as AWS words it: 403 with `{"message": ...}`. */
export interface SignatureRefusal {
  status: 403;
  body: { message: string };
}

/** How far x-amz-date may be from the server's clock (AWS allows 5 minutes). */
const MAX_SKEW_MS = 5 * 60_000;

const MISMATCH =
  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

export function verifySigV4(
  method: string,
  rawUrl: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
  keys: SigningKeys,
  nowMs: number,
): SignatureRefusal | null {
  const refuse = (message: string): SignatureRefusal => ({ status: 403, body: { message } });
  const authorization = header(headers, "authorization");
  const parsed =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      authorization,
    );
  if (parsed === null) {
    return refuse(
      "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=" +
        authorization.split(" ")[0],
    );
  }
  const [, accessKeyId = "", day = "", region = "", service = "", signedList = "", signature = ""] =
    parsed;
  const secret = keys.secrets.get(accessKeyId);
  if (secret === undefined) return refuse("The security token included in the request is invalid.");
  if (region !== keys.region || service !== keys.service) {
    return refuse(
      `Credential should be scoped to a valid region, not '${region}'. Credential should be scoped to correct service: '${keys.service}'. `,
    );
  }
  const amzDate = header(headers, "x-amz-date");
  const dated = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (dated === null || !amzDate.startsWith(day)) return refuse(MISMATCH);
  const [, y, mo, d, h, mi, s] = dated.map(Number);
  const signedAt = Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 0, h ?? 0, mi ?? 0, s ?? 0);
  if (Math.abs(nowMs - signedAt) > MAX_SKEW_MS) {
    return refuse(`Signature expired: ${amzDate} is now earlier than the allowed window.`);
  }
  const bodyHash = sha256(body);
  const declared = header(headers, "x-amz-content-sha256");
  if (declared !== "" && declared !== bodyHash) {
    return refuse("The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  const signedHeaders = signedList.split(";");
  if (!signedHeaders.includes("host") || !signedHeaders.includes("x-amz-date"))
    return refuse(MISMATCH);
  const canonical = [
    method,
    canonicalPath(rawUrl),
    canonicalQuery(rawUrl),
    `${signedHeaders.map((name) => `${name}:${header(headers, name).trim().replace(/\s+/g, " ")}`).join("\n")}\n`,
    signedList,
    bodyHash,
  ].join("\n");
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(Buffer.from(canonical))].join("\n");
  let key = hmac(`AWS4${secret}`, day);
  for (const part of [region, service, "aws4_request"]) key = hmac(key, part);
  const expected = createHmac("sha256", key).update(toSign).digest();
  const given = Buffer.from(signature, "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return refuse(MISMATCH);
  return null;
}

function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return Array.isArray(value) ? value.join(",") : (value ?? "");
}

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

/** RFC 3986 unreserved characters stay, everything else is %XX (upper case). */
function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * For every service but S3 the path is normalized and each segment, as it
 * arrived (already percent-encoded), is encoded once more.
 */
function canonicalPath(rawUrl: string): string {
  const path = rawUrl.split("?")[0] ?? "/";
  if (path === "/") return "/";
  const segments: string[] = [];
  for (const piece of path.replace(/\/{2,}/g, "/").split("/")) {
    if (piece === "..") segments.pop();
    else if (piece !== ".") segments.push(encodeRfc3986(piece));
  }
  const joined = segments.join("/");
  return joined.startsWith("/") ? joined : `/${joined}`;
}

/** Parameters decoded, re-encoded, sorted by name then value. */
function canonicalQuery(rawUrl: string): string {
  const at = rawUrl.indexOf("?");
  if (at === -1) return "";
  const pairs: Array<[string, string]> = [];
  for (const part of rawUrl.slice(at + 1).split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const name = decodeURIComponent((eq === -1 ? part : part.slice(0, eq)).replace(/\+/g, " "));
    const value = eq === -1 ? "" : decodeURIComponent(part.slice(eq + 1).replace(/\+/g, " "));
    pairs.push([encodeRfc3986(name), encodeRfc3986(value)]);
  }
  pairs.sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join("&");
}
