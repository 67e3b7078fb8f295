import { describe, expect, it } from "vitest";
import { decodeSection } from "../../daemon/config/decode.js";
import { Problems } from "../../daemon/config/problems.js";
import { keyDecodings } from "../../schemas/compile.js";
import { SyncSection } from "../../schemas/config.js";

describe("decodeSection (defaults and units from the schema, no TypeBox)", () => {
  it("fills every default in and decodes durations to ms and sizes to bytes", () => {
    const problems = new Problems();
    expect(decodeSection("storage", {}, problems)).toEqual({
      path: "/var/lib/sensord/sensord.db",
      flush_interval: 1000,
      max_bytes: 256 * 1024 ** 2,
    });
    expect(decodeSection("storage", { flush_interval: "1m30s" }, problems).flush_interval).toBe(
      90_000,
    );
    expect(problems.list).toEqual([]);
  });

  it("takes the default for a key already reported, so resolving goes on", () => {
    const problems = new Problems();
    problems.add("sync.timeout", "reported by the shape check");
    const sync = decodeSection("sync", { timeout: "soon", endpoint: 5 }, problems);
    expect(sync.timeout).toBe(15_000);
    expect(problems.list).toHaveLength(1);
  });

  it("reports a value it cannot use under the entry's key, in the schema's key order", () => {
    const problems = new Problems();
    decodeSection("thresholds", { gas: "co", value: 1, for: "a while" }, problems, "thresholds[3]");
    decodeSection("sync", { timeout: "50ms", batch_max_bytes: "512B" }, problems);
    expect(problems.list).toEqual([
      {
        key: "thresholds[3].for",
        message:
          '"a while" is not a duration; use a number with a unit, e.g. "250ms", "10s", "5m", "1h30m"',
      },
      {
        key: "sync.batch_max_bytes",
        message: '"512B" is too small; use at least "1KiB", e.g. "256KiB"',
      },
      {
        key: "sync.timeout",
        message: '"50ms" is out of range; use a duration from "100ms" to "10m"',
      },
    ]);
  });
});

describe("the key table schemas/compile.ts generates", () => {
  it("takes each default from the schema, whose description says it", () => {
    const sync = keyDecodings().sync;
    expect(sync?.timeout).toEqual({ default: "15s", decode: "duration", min: "100ms", max: "10m" });
    expect(SyncSection.properties.timeout.description).toMatch(/Default: "15s"$/);
    expect(SyncSection.properties.timeout.default).toBe("15s");
  });
});
