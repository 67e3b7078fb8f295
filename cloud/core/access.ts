import { createHash, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import { HttpError } from "./errors.js";
import type { CoreHeaders } from "./exchange.js";

/**
 * `x-api-key` check. Both sides are hashed first so the comparison is
 * constant-time whatever the lengths (timingSafeEqual needs equal lengths,
 * and an early length mismatch would leak the key's length).
 */
export function apiKeyCheck(apiKey: string | null): (headers: CoreHeaders) => boolean {
  if (apiKey === null) return () => true;
  const expected = digest(apiKey);
  return (headers) => {
    const given = headers["x-api-key"];
    if (given === undefined) return false;
    return timingSafeEqual(digest(given), expected);
  };
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/**
 * Without an API key, the only thing keeping a web page from reading or
 * writing the ingest is the browser's same-origin rule, and DNS rebinding
 * defeats it: attacker.example re-resolves to 127.0.0.1 and the page's
 * requests arrive with `Host: attacker.example`. So a keyless ingest serves
 * only requests naming it by a loopback name, its listen address, or a
 * name the operator allowed (--allowed-host). Null allows every host (an
 * API key is set, or a gateway in front checks the host).
 */
export function hostCheck(
  apiKey: string | null,
  listenHost: string | null,
  allowed: readonly string[],
): ((headers: CoreHeaders) => void) | null {
  if (apiKey !== null) return null;
  const names = new Set(["localhost", ...allowed.map((name) => name.toLowerCase())]);
  if (listenHost !== null && listenHost !== "0.0.0.0" && listenHost !== "::") {
    names.add(listenHost.toLowerCase());
  }
  return (headers) => {
    const host = hostName(headers.host ?? "");
    if (host !== null && (names.has(host) || isLoopback(host))) return;
    throw new HttpError(
      421,
      "INGEST_HOST_NOT_ALLOWED",
      `host "${headers.host ?? ""}" is not served without an API key (a web page could be reaching this ingest through DNS rebinding); use a loopback address, start sensord-ingest with --allowed-host NAME, or set --api-key-file`,
      { details: { header: "host" } },
    );
  };
}

/** "Example.org:8787" -> "example.org", "[::1]:80" -> "::1"; null when malformed. */
function hostName(header: string): string | null {
  const text = header.trim().toLowerCase();
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    return end > 0 ? text.slice(1, end) : null;
  }
  const colon = text.indexOf(":");
  const name = colon === -1 ? text : text.slice(0, colon);
  return name === "" ? null : name;
}

function isLoopback(host: string): boolean {
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1";
}
