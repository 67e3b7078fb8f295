import { randomBytes } from "node:crypto";

/**
 * Reading and alert ids as they go on the wire (HTTP batches, MQTT payloads,
 * the ingest's dedup key). The store makes them, outputs publish them: the
 * format lives here so both read it from one place.
 */

/** RFC 4648 base32 alphabet, lowercased: no 0/1/8/9, so a prefix never reads as a number. */
const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
export const ID_PREFIX_LENGTH = 10;
const PREFIX = /^[a-z2-7]{10}$/;
/** `<prefix>-<r|a><seq in base 36>`. */
const ID = /^([a-z2-7]{10})-([ra])([0-9a-z]+)$/;

export type IdKind = "reading" | "alert";

export interface ParsedId {
  prefix: string;
  kind: IdKind;
  seq: number;
}

/**
 * 10 random base32 characters (50 bits). Chosen once per database file, so
 * ids stay unique across devices and across a database being recreated.
 */
export function newIdPrefix(): string {
  const bytes = randomBytes(ID_PREFIX_LENGTH);
  let prefix = "";
  // 256 is a multiple of 32, so the low 5 bits of a random byte are uniform.
  for (const byte of bytes) prefix += BASE32.charAt(byte & 31);
  return prefix;
}

export function isIdPrefix(text: string): boolean {
  return PREFIX.test(text);
}

export function readingId(prefix: string, seq: number): string {
  return `${prefix}-r${seq.toString(36)}`;
}

export function alertId(prefix: string, seq: number): string {
  return `${prefix}-a${seq.toString(36)}`;
}

/** The inverse of `readingId` / `alertId`; null for anything they cannot have produced. */
export function parseId(id: string): ParsedId | null {
  const match = ID.exec(id);
  if (!match) return null;
  const [, prefix = "", letter = "", digits = ""] = match;
  const seq = Number.parseInt(digits, 36);
  // Re-encoding rejects leading zeros and values past 2^53, which would alias another id.
  if (!Number.isSafeInteger(seq) || seq < 1 || seq.toString(36) !== digits) return null;
  return { prefix, kind: letter === "r" ? "reading" : "alert", seq };
}
