import { type ChildProcess, spawn } from "node:child_process";
import { connect, type Socket } from "node:net";

export interface Blackhole {
  /** An http URL whose connects hang (SYNs dropped) until the client gives up. */
  url: string;
  close(): Promise<void>;
}

/**
 * A loopback endpoint that never completes a TCP handshake, for connect
 * timeouts. A child process listens with backlog 1 and then blocks its event
 * loop, so nothing is ever accepted; once the accept queue is full Linux drops
 * further SYNs, which is what a firewalled or vanished host looks like. (A
 * net.Server in this process cannot do it: libuv accepts eagerly.)
 */
export async function startBlackhole(): Promise<Blackhole> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      "-e",
      `const server = require("node:net").createServer();
       server.listen({ host: "127.0.0.1", port: 0, backlog: 1 }, () => {
         process.stdout.write(server.address().port + "\\n");
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
       });`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const fillers: Socket[] = [];
  const close = async () => {
    for (const socket of fillers) socket.destroy();
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    }
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`blackhole child exited (${code})`)));
      child.stdout?.once("data", (data: Buffer) => resolve(Number(String(data).trim())));
    });
    // Fill the accept queue until a connect hangs.
    for (let i = 0; i < 16; i++) {
      const socket = connect(port, "127.0.0.1");
      socket.on("error", () => {});
      fillers.push(socket);
      const connected = await new Promise<boolean>((resolve) => {
        socket.once("connect", () => resolve(true));
        setTimeout(() => resolve(false), 100);
      });
      if (!connected) return { url: `http://127.0.0.1:${port}/ingest`, close };
    }
    throw new Error("could not fill the accept queue: connects never hang on this host");
  } catch (error) {
    await close();
    throw error;
  }
}
