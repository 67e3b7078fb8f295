import { describe, expect, it } from "vitest";
import { secretMatcher } from "../../core/secret.js";

describe("secretMatcher", () => {
  const matches = secretMatcher("s3cret-key");

  it("accepts the secret itself", () => {
    expect(matches("s3cret-key")).toBe(true);
  });

  it("refuses anything else, whatever its length: a prefix, a longer text, empty, another case", () => {
    expect(["s3cret", "s3cret-key ", "", "S3CRET-KEY", "s3cret-kez"].map(matches)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});
