import { describe, expect, it } from "vitest";
import { ConfigError } from "../../core/errors.js";
import { defaultConfig, parseConfig } from "../../daemon/config/load.js";
import { renderConfig } from "../../daemon/config/render.js";
import { MACHINE } from "../config/helpers.js";

const SENSOR = '[[sensors]]\nid = "gas0"\ndriver = "sim"\n';
const load = (text: string) => parseConfig(text, "/etc/sensord/sensord.toml", { machine: MACHINE });

function problems(text: string): string[] {
  try {
    load(text);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.key}: ${p.message}`);
    throw error;
  }
  return [];
}

describe("[control] and [http]", () => {
  it("default to the systemd socket and loopback metrics; --simulate puts the socket next to its database", () => {
    const config = load(SENSOR);
    expect(config.control).toEqual({ socket: "/run/sensord/sensord.sock" });
    expect(config.http).toEqual({ listen: { host: "127.0.0.1", port: 9464 }, tokenFile: null });
    expect(defaultConfig("/home/pi/sensord", { machine: MACHINE }).control).toEqual({
      socket: "/home/pi/sensord/var/sensord.sock",
    });
  });

  it('resolve relative sockets against the config folder, IPv6 listen addresses, and "" as off', () => {
    const config = load(
      `[control]\nsocket = "run/ctl.sock"\n[http]\nlisten = "[::1]:9100"\n${SENSOR}`,
    );
    expect(config.control.socket).toBe("/etc/sensord/run/ctl.sock");
    expect(config.http.listen).toEqual({ host: "::1", port: 9100 });
    const off = load(`[control]\nsocket = ""\n[http]\nlisten = ""\n${SENSOR}`);
    expect(off.control.socket).toBeNull();
    expect(off.http.listen).toBeNull();
    expect(renderConfig(off)).toContain('[control]\nsocket = ""\n\n[http]\nlisten = ""');
    expect(renderConfig(config)).toContain('listen = "[::1]:9100"');
  });

  it("name the key and the fix for a bad address, an overlong socket path or an unknown key", () => {
    expect(problems(`[http]\nlisten = "localhost"\n${SENSOR}`)).toEqual([
      expect.stringMatching(
        /^http\.listen: "localhost" is not an address to listen on; write it as host:port/,
      ),
    ]);
    expect(problems(`[http]\nlisten = "127.0.0.1:70000"\n${SENSOR}`)).toHaveLength(1);
    expect(problems(`[control]\nsocket = "/${"x".repeat(120)}.sock"\n${SENSOR}`)).toEqual([
      expect.stringMatching(
        /^control\.socket: \/x+\.sock is 126 bytes long; a Unix socket path can have at most 107/,
      ),
    ]);
    expect(problems(`[control]\nsokcet = "x"\n${SENSOR}`)).toEqual([
      'control.sokcet: unknown key "sokcet" in control; did you mean "socket"? remove it or use one of: socket',
    ]);
  });
});
