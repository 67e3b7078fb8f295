import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";

export const MOSQUITTO = "/usr/sbin/mosquitto";

/** A free TCP port on 127.0.0.1 (released just before the broker binds it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface BrokerTls {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** The broker refuses clients without a certificate its CA signed. */
  requireCertificate: boolean;
}

export interface BrokerOptions {
  dir: string;
  tls?: BrokerTls;
  port?: number;
  /**
   * Keep sessions, subscriptions and queued messages across a `stop("SIGTERM")`
   * and `restart()` (saved in `dir` on exit): a persistent subscriber then
   * misses nothing published while it was reconnecting.
   */
  persistence?: boolean;
}

/** A real mosquitto on 127.0.0.1, stopped by PID. `restart()` comes back on the same port. */
export class Broker {
  private child: ChildProcess | null = null;
  private output = "";
  readonly port: number;
  private readonly configFile: string;

  private constructor(
    port: number,
    private readonly options: BrokerOptions,
  ) {
    this.port = port;
    this.configFile = join(options.dir, `mosquitto-${port}.conf`);
    const lines = [
      `listener ${port} 127.0.0.1`,
      "allow_anonymous true",
      ...(options.persistence
        ? [
            "persistence true",
            `persistence_location ${options.dir}/`,
            `persistence_file mosquitto-${port}.db`,
          ]
        : ["persistence false"]),
      "log_dest stderr",
      "log_type error",
      "log_type warning",
      "log_type notice",
    ];
    // As root, mosquitto would switch to the `mosquitto` user, which cannot read the temp dir.
    if (process.getuid?.() === 0) lines.push("user root");
    if (options.tls) {
      lines.push(
        `cafile ${options.tls.caFile}`,
        `certfile ${options.tls.certFile}`,
        `keyfile ${options.tls.keyFile}`,
        `require_certificate ${options.tls.requireCertificate}`,
      );
    }
    writeFileSync(this.configFile, `${lines.join("\n")}\n`);
  }

  static async start(options: BrokerOptions): Promise<Broker> {
    const broker = new Broker(options.port ?? (await freePort()), options);
    await broker.launch();
    return broker;
  }

  get url(): string {
    return `${this.options.tls ? "mqtts" : "mqtt"}://127.0.0.1:${this.port}`;
  }

  get log(): string {
    return this.output;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  private async launch(): Promise<void> {
    const child = spawn(MOSQUITTO, ["-c", this.configFile], { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    RUNNING.add(this);
    child.stdout?.on("data", (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    const deadline = Date.now() + 10_000;
    while (!(await accepts(this.port))) {
      if (child.exitCode !== null) {
        throw new Error(`mosquitto exited (${child.exitCode}):\n${this.output}`);
      }
      if (Date.now() > deadline) throw new Error(`mosquitto did not listen:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** SIGKILL by default; SIGTERM lets mosquitto close clients and save its persistence file. */
  async stop(signal: "SIGKILL" | "SIGTERM" = "SIGKILL"): Promise<void> {
    const child = this.child;
    this.child = null;
    RUNNING.delete(this);
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    if (child.pid !== undefined) process.kill(child.pid, signal);
    await exited;
  }

  async restart(signal: "SIGKILL" | "SIGTERM" = "SIGKILL"): Promise<void> {
    await this.stop(signal);
    await this.launch();
  }
}

const RUNNING = new Set<Broker>();

/** Stops (by PID) every broker a test started; call from afterEach/afterAll. */
export async function stopAllBrokers(): Promise<void> {
  await Promise.all([...RUNNING].map((broker) => broker.stop()));
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export interface TestPki {
  caFile: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A CA that signed nothing here: the wrong ca_file. */
  otherCaFile: string;
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl (EC P-256: fast). */
export function makePki(dir: string): TestPki {
  const path = (name: string) => join(dir, name);
  const openssl = (args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  for (const ca of ["ca", "other-ca"]) {
    openssl([
      "req",
      "-x509",
      ...newKey,
      "-keyout",
      path(`${ca}.key`),
      "-out",
      path(`${ca}.crt`),
      "-days",
      "2",
      "-subj",
      `/CN=sensord test ${ca}`,
    ]);
  }
  const issue = (name: string, cn: string, ext: string) => {
    writeFileSync(path(`${name}.ext`), `${ext}\n`);
    openssl([
      "req",
      "-new",
      ...newKey,
      "-keyout",
      path(`${name}.key`),
      "-out",
      path(`${name}.csr`),
      "-subj",
      `/CN=${cn}`,
    ]);
    openssl([
      "x509",
      "-req",
      "-in",
      path(`${name}.csr`),
      "-CA",
      path("ca.crt"),
      "-CAkey",
      path("ca.key"),
      "-CAcreateserial",
      "-out",
      path(`${name}.crt`),
      "-days",
      "2",
      "-extfile",
      path(`${name}.ext`),
    ]);
  };
  issue("server", "127.0.0.1", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth");
  issue("client", "pi-tls", "extendedKeyUsage=clientAuth");
  execFileSync("chmod", ["600", path("client.key"), path("server.key")]);
  return {
    caFile: path("ca.crt"),
    serverCert: path("server.crt"),
    serverKey: path("server.key"),
    clientCert: path("client.crt"),
    clientKey: path("client.key"),
    otherCaFile: path("other-ca.crt"),
  };
}

/** `mosquitto_sub` (a real client, not our code) printing `topic payload` lines. */
export class Subscriber {
  readonly child: ChildProcess;
  private output = "";
  private readonly probes = new Set<string>();

  constructor(
    private readonly broker: Broker,
    topics: string[],
    extra: string[] = [],
  ) {
    const args = ["-h", "127.0.0.1", "-p", String(broker.port), "-q", "1", "-v", ...extra];
    for (const topic of topics) args.push("-t", topic);
    this.child = spawn("mosquitto_sub", args, { stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout?.on("data", (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    SUBSCRIBERS.add(this);
  }

  /** Complete lines received so far, as [topic, payload] (without the probes of `subscribed`). */
  messages(): Array<[string, string]> {
    const lines = this.output.split("\n");
    lines.pop();
    return lines
      .map((line): [string, string] => {
        const space = line.indexOf(" ");
        return space === -1 ? [line, ""] : [line.slice(0, space), line.slice(space + 1)];
      })
      .filter(([, payload]) => !this.probes.has(payload));
  }

  /**
   * Resolves once the subscription on `topic` (no wildcards) is in place: a
   * probe published there has come back. Sleeping instead races the first
   * publishes on a busy machine.
   */
  async subscribed(topic: string, timeoutMs = 10_000): Promise<void> {
    const probe = `probe-${process.pid}-${this.probes.size}-${Date.now()}`;
    this.probes.add(probe);
    const deadline = Date.now() + timeoutMs;
    while (!this.output.split("\n").includes(`${topic} ${probe}`)) {
      if (this.child.exitCode !== null)
        throw new Error(`mosquitto_sub exited (${this.child.exitCode})`);
      if (Date.now() > deadline)
        throw new Error(`no subscription on ${topic} after ${timeoutMs} ms`);
      // Published again each round: one sent before the SUBSCRIBE took effect is simply lost.
      execFileSync(
        "mosquitto_pub",
        ["-h", "127.0.0.1", "-p", String(this.broker.port), "-q", "1", "-t", topic, "-m", probe],
        { stdio: "pipe" },
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  stop(): void {
    SUBSCRIBERS.delete(this);
    if (this.child.exitCode === null && this.child.pid !== undefined) {
      process.kill(this.child.pid, "SIGKILL");
    }
  }
}

const SUBSCRIBERS = new Set<Subscriber>();

export function stopAllSubscribers(): void {
  for (const subscriber of [...SUBSCRIBERS]) subscriber.stop();
}

/** mosquitto_sub's exit status when `-W` ran out (MOSQ_ERR_TIMEOUT): nothing arrived. */
const SUB_TIMED_OUT = 27;

/**
 * One retained message on `topic` via mosquitto_sub, or null when none
 * arrives within a second. Anything else (broker down, a bad topic, a crash)
 * throws: it must fail the test, never pass for "no retained message".
 */
export function retained(broker: Broker, topic: string): string | null {
  const args = ["-h", "127.0.0.1", "-p", String(broker.port), "-t", topic];
  const result = spawnSync("mosquitto_sub", [...args, "-C", "1", "-W", "1", "--retained-only"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    // -W 1 bounds a healthy run; this only catches a hung client.
    timeout: 10_000,
  });
  const stderr = result.stderr.trim();
  if (result.status === SUB_TIMED_OUT && stderr === "Timed out") return null;
  if (result.error !== undefined || result.status !== 0 || stderr !== "") {
    const how = result.error?.message ?? `exit ${result.status ?? result.signal}`;
    throw new Error(`mosquitto_sub ${args.join(" ")} failed (${how}): ${stderr}`);
  }
  return result.stdout.replace(/\n$/, "");
}
