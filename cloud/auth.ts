import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

/**
 * `x-api-key` check. Both sides are hashed first so the comparison is
 * constant-time whatever the lengths (timingSafeEqual needs equal lengths,
 * and an early length mismatch would leak the key's length).
 */
export function apiKeyCheck(apiKey: string | null): (headers: IncomingHttpHeaders) => boolean {
  if (apiKey === null) return () => true;
  const expected = digest(apiKey);
  return (headers) => {
    const given = headers["x-api-key"];
    if (typeof given !== "string") return false;
    return timingSafeEqual(digest(given), expected);
  };
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}
