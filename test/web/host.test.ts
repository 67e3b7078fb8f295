import { describe, expect, it } from "vitest";
import { hostAllowed, hostName, isLoopbackName } from "../../core/host.js";

describe("the Host rule against DNS rebinding (sensord and sensord-ingest)", () => {
  it("takes loopback names, the listen address and the names allowed; nothing else", () => {
    const allowed = hostAllowed("192.168.1.20", ["Pi.Lab"]);
    for (const host of [
      "localhost:9464",
      "LOCALHOST",
      "grafana.localhost",
      "127.0.0.1:9464",
      "127.1.2.3",
      "[::1]:9464",
      "192.168.1.20:9464",
      "pi.lab:9464",
    ]) {
      expect(allowed(host), host).toBe(true);
    }
    for (const host of [
      undefined,
      "",
      ":9464",
      "attacker.example",
      "127.0.0.1.attacker.example",
      "[::1",
    ]) {
      expect(allowed(host), String(host)).toBe(false);
    }
    // A wildcard listen address names no host.
    expect(hostAllowed("0.0.0.0")("0.0.0.0:9464")).toBe(false);
  });

  it("parses the Host header", () => {
    expect(hostName("Example.org:8787")).toBe("example.org");
    expect(hostName("[::1]:80")).toBe("::1");
    expect(hostName("")).toBeNull();
    expect(isLoopbackName("127.0.0.53")).toBe(true);
    expect(isLoopbackName("128.0.0.1")).toBe(false);
  });
});
