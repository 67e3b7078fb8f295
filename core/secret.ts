import { createHash, timingSafeEqual } from "node:crypto";

/**
 * A check of presented secrets (API keys, dashboard tokens) against
 * `expected`. Both sides are hashed first, so the comparison takes the same
 * time whatever the lengths: timingSafeEqual needs equal lengths, and an
 * early length mismatch would leak the secret's length.
 */
export function secretMatcher(expected: string): (presented: string) => boolean {
  const want = digest(expected);
  return (presented) => timingSafeEqual(digest(presented), want);
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}
