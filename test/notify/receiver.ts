import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

const SCRIPT = join(import.meta.dirname, "notify-receiver.py");

/** One datagram as systemd's notify socket would see it (see notify-receiver.py). */
export interface NotifyDatagram {
  /** Epoch ms when it was read. */
  at: number;
  pid: number | null;
  alive: boolean;
  fds: number;
  watched: boolean;
  fields: Record<string, string>;
}

const RUNNING = new Set<NotifyReceiver>();

/**
 * A real AF_UNIX SOCK_DGRAM socket bound by a python3 process (Node cannot
 * bind one), standing in for PID 1's notify socket.
 */
export class NotifyReceiver {
  readonly datagrams: NotifyDatagram[] = [];
  private readonly exited: Promise<void>;
  private stderr = "";

  private constructor(
    readonly path: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolveExit) => child.on("exit", () => resolveExit()));
    child.stderr?.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    RUNNING.add(this);
  }

  /** Binds `dir/notify.sock`; `watchPath` is checked for existence as each datagram arrives. */
  static async start(dir: string, watchPath?: string): Promise<NotifyReceiver> {
    const path = join(dir, "notify.sock");
    const child = spawn("python3", [SCRIPT, path, ...(watchPath ? [watchPath] : [])], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const receiver = new NotifyReceiver(path, child);
    await new Promise<void>((resolveBound, rejectBound) => {
      let buffered = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split("\n");
        buffered = lines.pop() ?? "";
        for (const line of lines) {
          const parsed = JSON.parse(line) as NotifyDatagram | { bound: string };
          if ("bound" in parsed) resolveBound();
          else receiver.datagrams.push(parsed);
        }
      });
      child.on("exit", (code) =>
        rejectBound(new Error(`notify receiver exited (${code}): ${receiver.stderr}`)),
      );
    });
    return receiver;
  }

  /** Datagrams that carry variables other than the BARRIER=1 handshake. */
  messages(): NotifyDatagram[] {
    return this.datagrams.filter((datagram) => datagram.fields.BARRIER === undefined);
  }

  with(key: string, value?: string): NotifyDatagram[] {
    return this.messages().filter((datagram) =>
      value === undefined ? key in datagram.fields : datagram.fields[key] === value,
    );
  }

  async waitFor(
    predicate: (datagram: NotifyDatagram) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<NotifyDatagram> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages().find(predicate);
      if (found) return found;
      if (Date.now() > deadline)
        throw new Error(
          `timed out waiting for ${what}; received:\n${this.messages()
            .map((datagram) => JSON.stringify(datagram.fields))
            .join("\n")}`,
        );
      await new Promise((resolveWait) => setTimeout(resolveWait, 20));
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    await this.exited;
    RUNNING.delete(this);
  }
}

/** Stops (by PID) every receiver a test started; call from afterEach. */
export async function stopAllReceivers(): Promise<void> {
  await Promise.all([...RUNNING].map((receiver) => receiver.stop()));
}
