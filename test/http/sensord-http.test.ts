import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { send } from "../support/http/client.js";
import {
  cleanEnv,
  DaemonProcess,
  killAllDaemons,
  makeTempDir,
  SENSORCTL,
  SENSORD,
} from "../support/processes.js";

/**
 * sensord's HTTP server and control socket as a client (or an attacker) sees
 * them: the real binary on the sim sensor, raw requests with the headers a
 * browser would not let a page set.
 */
const temp = makeTempDir("sensord-http-");
let daemon: DaemonProcess;
let port: number;
let socket: string;
let config: string;

function writeConfig(dir: string): string {
  const file = join(dir, "sensord.toml");
  writeFileSync(
    file,
    '[storage]\npath = "sensord.db"\nflush_interval = "100ms"\n\n' +
      '[control]\nsocket = "sensord.sock"\n\n[http]\nlisten = "127.0.0.1:0"\n\n' +
      '[[sensors]]\nid = "gas0"\ndriver = "sim"\ninterval = "200ms"\n',
  );
  return file;
}

beforeAll(async () => {
  config = writeConfig(temp.dir);
  socket = join(temp.dir, "sensord.sock");
  daemon = new DaemonProcess(["--config", config]);
  const match = await daemon.waitForLog(/dashboard on http:\/\/127\.0\.0\.1:(\d+)\//);
  port = Number(match[1]);
  await daemon.waitForLog(/control socket/);
}, 30_000);

afterAll(async () => {
  await killAllDaemons();
  temp.cleanup();
});

describe("sensord's HTTP server without a token (loopback)", () => {
  it("refuses a Host that is not a loopback name or the listen address (DNS rebinding): 421", async () => {
    for (const path of ["/api/readings.csv", "/api/status", "/", "/metrics"]) {
      const refused = await send(port, "GET", path, { host: `attacker.example:${port}` });
      expect(refused.status, path).toBe(421);
      const message = path.startsWith("/api/")
        ? (JSON.parse(refused.body) as { error: string }).error
        : refused.body;
      expect(message, path).toMatch(/host "attacker\.example:\d+" is not served/);
      expect(message, path).toMatch(/token_file/);
    }
    const api = await send(port, "GET", "/api/readings.csv", { host: "rebind.example" });
    expect(JSON.parse(api.body)).toMatchObject({ header: "host" });
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, "127.0.0.1", "[::1]:80"]) {
      const served = await send(port, "GET", "/api/readings.csv", { host });
      expect(served.status, host).toBe(200);
      expect(served.body, host).toMatch(/^id,sensor,gas,value,unit,ts,flags\n/);
    }
    // Liveness probes may use any name; /healthz reveals nothing.
    expect((await send(port, "GET", "/healthz", { host: "monitor.example" })).status).toBe(200);
  });

  it("answers 405 with Allow, and 400 naming `gas` for a gas it does not know", async () => {
    const post = await send(port, "POST", "/metrics", { body: "x" });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe("GET, HEAD");
    const head = await send(port, "HEAD", "/api/status");
    expect(head.status).toBe(405);
    expect(head.headers.allow).toBe("GET");
    for (const path of ["/api/series?gas=carbon", "/api/readings.csv?gas=carbon"]) {
      const answer = await send(port, "GET", path);
      expect(answer.status, path).toBe(400);
      const body = JSON.parse(answer.body) as { param: string; error: string };
      expect(body.param).toBe("gas");
      expect(body.error).toMatch(/unknown gas "carbon"; known: co, no2/);
    }
    expect((await send(port, "GET", "/api/series?gas=co")).status).toBe(200);
  });
});

describe("the control socket", () => {
  it("answers a body over 64 KiB with 413, and 405 with Allow", async () => {
    const big = JSON.stringify({ padding: "x".repeat(70 * 1024) });
    const tooLarge = await send(socket, "PUT", "/v1/thresholds", {
      body: big,
      headers: { "content-type": "application/json" },
    });
    expect(tooLarge.status).toBe(413);
    expect(JSON.parse(tooLarge.body).error).toMatch(/too large: at most 65536 bytes/);
    // Without a declared length (chunked): counted as it arrives.
    const chunked = await send(socket, "PUT", "/v1/thresholds", {
      body: big,
      headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
    });
    expect(chunked.status).toBe(413);
    const wrong = await send(socket, "DELETE", "/v1/status");
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe("GET");
    expect((await send(socket, "PATCH", "/v1/thresholds")).headers.allow).toBe("GET, PUT");
    // The socket still works.
    expect((await send(socket, "GET", "/v1/status")).status).toBe(200);
  });
});

describe("open connections are capped", () => {
  it("300 idle connections starve neither /healthz nor `sensorctl status` (sensord at 256 file descriptors)", async () => {
    const dir = join(temp.dir, "capped");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(dir);
    const capped = writeConfig(dir);
    // A service's descriptor limit, made small so 300 connections pass it.
    const child: ChildProcess = spawn(
      "sh",
      ["-c", `ulimit -n 256 && exec "${process.execPath}" "${SENSORD}" --config "${capped}"`],
      { env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] },
    );
    let log = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      log += chunk.toString();
    });
    const idle: Socket[] = [];
    try {
      const deadline = Date.now() + 15_000;
      while (!/dashboard on http:\/\/127\.0\.0\.1:(\d+)\//.test(log)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(log);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const cappedPort = Number(/dashboard on http:\/\/127\.0\.0\.1:(\d+)\//.exec(log)?.[1]);
      for (let i = 0; i < 300; i++) {
        const open = connect(cappedPort, "127.0.0.1");
        open.on("error", () => undefined);
        idle.push(open);
      }
      // The kernel completes the handshakes whether or not sensord accepts them.
      await Promise.race([
        Promise.all(
          idle.map(
            (open) =>
              new Promise((resolve) => open.once("connect", resolve).once("close", resolve)),
          ),
        ),
        new Promise((resolve) => setTimeout(resolve, 5000)),
      ]);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const started = Date.now();
      const health = await send(cappedPort, "GET", "/healthz");
      expect(health.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(2000);
      const status = spawnSync(
        process.execPath,
        [SENSORCTL, "--config", capped, "status", "--json"],
        {
          env: cleanEnv(),
          encoding: "utf8",
          timeout: 20_000,
        },
      );
      expect(status.status, status.stderr).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ running: true });
      // At most the cap is held: the rest were closed (the oldest idle first).
      expect(
        idle.filter((open) => !open.destroyed && open.readyState === "open").length,
      ).toBeLessThanOrEqual(64);
    } finally {
      for (const open of idle) open.destroy();
      child.kill("SIGKILL");
    }
  }, 60_000);

  it("closes a connection that sends no request, or a header it never finishes, within about 10 s", async () => {
    const silent = connect(port, "127.0.0.1");
    const stalled = connect(port, "127.0.0.1");
    stalled.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    const started = Date.now();
    const closedAfter = (socket: Socket) =>
      new Promise<number>((resolve) => {
        socket.on("error", () => undefined);
        socket.resume();
        socket.once("close", () => resolve(Date.now() - started));
        setTimeout(() => resolve(Number.POSITIVE_INFINITY), 15_000);
      });
    const [quiet, partial] = await Promise.all([closedAfter(silent), closedAfter(stalled)]);
    expect(quiet).toBeLessThan(12_000);
    expect(partial).toBeLessThan(12_000);
    silent.destroy();
    stalled.destroy();
  }, 20_000);
});
