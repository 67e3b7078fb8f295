import { describe, expect, it } from "vitest";
import {
  formatUrl,
  parseListen,
  parseReadingsQuery,
  parseWallTime,
  wallTimeToEpochMs,
} from "../../cloud/index.js";

describe("parseListen", () => {
  it.each([
    ["127.0.0.1:8787", { host: "127.0.0.1", port: 8787 }],
    ["0.0.0.0:0", { host: "0.0.0.0", port: 0 }],
    ["localhost:80", { host: "localhost", port: 80 }],
    ["[::1]:8787", { host: "::1", port: 8787 }],
  ])("%s", (text, address) => {
    expect(parseListen(text)).toEqual(address);
  });

  it.each(["8787", "127.0.0.1", "127.0.0.1:65536", "::1:8787", "host:port", ""])(
    "refuses %j",
    (text) => {
      expect(parseListen(text)).toBeNull();
    },
  );

  it("brackets IPv6 hosts in URLs", () => {
    expect(formatUrl({ host: "::1", port: 1 })).toBe("http://[::1]:1");
    expect(formatUrl({ host: "127.0.0.1", port: 2 })).toBe("http://127.0.0.1:2");
  });
});

describe("wall time in a zone", () => {
  const at = (text: string, zone: string): string => {
    const wall = parseWallTime(text);
    if (wall === null) throw new Error(`unparsable ${text}`);
    return new Date(wallTimeToEpochMs(wall, zone)).toISOString();
  };

  it("converts local time to UTC", () => {
    expect(at("2021-09-03 18:14:49", "UTC")).toBe("2021-09-03T18:14:49.000Z");
    expect(at("2021-09-03 18:14:49", "Asia/Seoul")).toBe("2021-09-03T09:14:49.000Z");
    // Both sides of a DST change.
    expect(at("2026-01-15 12:00:00", "Europe/Berlin")).toBe("2026-01-15T11:00:00.000Z");
    expect(at("2026-07-15 12:00:00", "Europe/Berlin")).toBe("2026-07-15T10:00:00.000Z");
    expect(at("2026-07-15 00:30:00", "America/New_York")).toBe("2026-07-15T04:30:00.000Z");
  });

  it("refuses impossible dates and times", () => {
    expect(parseWallTime("2021-02-30 10:00:00")).toBeNull();
    expect(parseWallTime("2021-09-03 24:00:00")).toBeNull();
    expect(parseWallTime("2021-09-03T18:14:49")).toBeNull();
    expect(parseWallTime("2024-02-29 00:00:00")).not.toBeNull();
  });
});

describe("parseReadingsQuery", () => {
  it("applies defaults and keeps empty text filters", () => {
    expect(parseReadingsQuery(new URLSearchParams(""))).toEqual({ limit: 1000 });
    expect(parseReadingsQuery(new URLSearchParams("device=&limit=100000&from=0"))).toEqual({
      device: "",
      limit: 100000,
      fromMs: 0,
    });
    expect(parseReadingsQuery(new URLSearchParams("from=2026-11-26"))).toEqual({
      limit: 1000,
      fromMs: Date.UTC(2026, 10, 26),
    });
  });
});
