import { describe, expect, it } from "vitest";
import { createLogger } from "../../core/logger.js";

describe("logger", () => {
  it("prefixes syslog priorities and omits timestamps under journald", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "debug", journald: true, write: (line) => lines.push(line) });
    log.error("disk full");
    log.warn("w");
    log.child("gas0").info("ok");
    log.debug("d");
    expect(lines).toEqual(["<3>disk full\n", "<4>w\n", "<6>[gas0] ok\n", "<7>d\n"]);
  });

  it("stamps time and level otherwise, filters by level, and keeps one event on one line", () => {
    const lines: string[] = [];
    const log = createLogger({
      level: "info",
      journald: false,
      write: (line) => lines.push(line),
      now: () => new Date("2026-11-26T10:40:36.123Z"),
    });
    log.debug("hidden");
    log.warn("two\nlines");
    log.setLevel("error");
    log.info("hidden too");
    expect(lines).toEqual(["2026-11-26T10:40:36.123Z WARN  two | lines\n"]);
  });
});
