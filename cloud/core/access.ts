import { ERROR_CODES } from "../../core/errors.js";
import { hostAllowed } from "../../core/host.js";
import { secretMatcher } from "../../core/secret.js";
import { HttpError } from "./errors.js";
import type { CoreHeaders } from "./exchange.js";

/** `x-api-key` check, in constant time (core/secret.ts). */
export function apiKeyCheck(apiKey: string | null): (headers: CoreHeaders) => boolean {
  if (apiKey === null) return () => true;
  const matches = secretMatcher(apiKey);
  return (headers) => {
    const given = headers["x-api-key"];
    return given !== undefined && matches(given);
  };
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
  const allowedHost = hostAllowed(listenHost, allowed);
  return (headers) => {
    if (allowedHost(headers.host)) return;
    throw new HttpError(
      421,
      ERROR_CODES.ingest.hostNotAllowed,
      `host "${headers.host ?? ""}" is not served without an API key (a web page could be reaching this ingest through DNS rebinding); use a loopback address, start sensord-ingest with --allowed-host NAME, or set --api-key-file`,
      { details: { header: "host" } },
    );
  };
}
