import { readFileSync, statSync } from "node:fs";
import { describeError } from "./errors.js";

export interface ApiKey {
  key: string;
  /** Set when group or others may read the file: the key must be the service user's alone. */
  warning: string | null;
}

/**
 * Reads the key (trimmed: editors add a newline). Throws with an actionable
 * message; never includes the key itself in any message.
 */
export function readApiKey(path: string): ApiKey {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(
      `cannot read the API key file ${path} (${describeError(error)}); create it, readable only by the service user (chmod 600)`,
    );
  }
  const key = text.trim();
  if (key === "")
    throw new Error(`the API key file ${path} is empty; put the key on its first line`);
  const mode = statSync(path).mode & 0o777;
  const warning =
    (mode & 0o077) === 0
      ? null
      : `the API key file ${path} is readable by group or others (mode ${mode.toString(8).padStart(3, "0")}); run chmod 600 ${path}`;
  return { key, warning };
}
