import type { IncomingHttpHeaders } from "node:http";
import { secretMatcher } from "../../core/secret.js";

/** The cookie the page keeps the token in after `/?token=` (HttpOnly: page scripts never see it). */
export const TOKEN_COOKIE = "sensord_token";
/** The header scripts send it in (`Authorization: Bearer <token>` works too). */
export const TOKEN_HEADER = "x-sensord-token";

/** The token a request carries: header first, then bearer, then the cookie; null when none. */
export function presentedToken(headers: IncomingHttpHeaders): string | null {
  const header = headers[TOKEN_HEADER];
  if (typeof header === "string" && header !== "") return header;
  const bearer = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? "");
  if (bearer?.[1] !== undefined) return bearer[1];
  for (const part of (headers.cookie ?? "").split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === TOKEN_COOKIE && rest.length > 0) {
      try {
        return decodeURIComponent(rest.join("="));
      } catch {
        return null;
      }
    }
  }
  return null;
}

/**
 * Whether a request may read the dashboard's data: always when no token is
 * configured (loopback), else only with the configured token, compared in
 * constant time so response timing says nothing about it.
 */
export function mayRead(expected: string | null, presented: string | null): boolean {
  if (expected === null) return true;
  return presented !== null && secretMatcher(expected)(presented);
}

/** Set on `/?token=<valid>`: a session cookie for this server only, never sent cross-site. */
export function tokenCookie(token: string): string {
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`;
}
