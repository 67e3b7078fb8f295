import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../core/logger.js";
import { createNotifier, NOOP_NOTIFIER } from "../../daemon/notify/notifier.js";
import { makeTempDir, waitUntil } from "../support/processes.js";
import { NotifyReceiver, stopAllReceivers } from "./receiver.js";

/** The real systemd-notify, sending to a real AF_UNIX datagram socket. */
describe("systemd notifier", () => {
  let dir: string;
  let cleanup: () => void;
  const lines: string[] = [];
  const log = createLogger({ level: "debug", journald: true, write: (line) => lines.push(line) });

  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir());
    lines.length = 0;
  });
  afterEach(async () => {
    await stopAllReceivers();
    cleanup();
  });

  it("is a no-op without NOTIFY_SOCKET", () => {
    expect(createNotifier({ env: {}, log, pid: process.pid })).toBe(NOOP_NOTIFIER);
    expect(createNotifier({ env: { NOTIFY_SOCKET: "" }, log, pid: process.pid })).toBe(
      NOOP_NOTIFIER,
    );
  });

  it("sends each message once, attributed to our pid, and waits for the barrier", async () => {
    const receiver = await NotifyReceiver.start(dir);
    const notifier = createNotifier({
      env: { ...process.env, NOTIFY_SOCKET: receiver.path },
      log,
      pid: process.pid,
    });
    notifier.status("4 sensors ok,\n12 readings");
    notifier.ready();
    await receiver.waitFor((datagram) => datagram.fields.READY === "1", 5000, "READY=1");
    // Several periodic calls in one tick share one datagram.
    notifier.status("first");
    notifier.watchdog();
    notifier.status("second");
    notifier.watchdog();
    await receiver.waitFor((datagram) => datagram.fields.STATUS === "second", 5000, "STATUS");
    notifier.stopping();
    await receiver.waitFor((datagram) => datagram.fields.STOPPING === "1", 5000, "STOPPING=1");

    expect(receiver.messages().map((datagram) => datagram.fields)).toEqual([
      { MAINPID: String(process.pid), READY: "1", STATUS: "4 sensors ok, 12 readings" },
      { MAINPID: String(process.pid), STATUS: "second", WATCHDOG: "1" },
      { MAINPID: String(process.pid), STOPPING: "1" },
    ]);
    // Every message is followed by its sender's BARRIER=1 with a file descriptor:
    // the sender stays alive until the receiver closes it, so PID 1 can attribute the message.
    await waitUntil(() => receiver.datagrams.length === 6, 5000, "three barriers");
    const barriers = receiver.datagrams.filter((datagram) => datagram.fields.BARRIER === "1");
    expect(barriers.map((datagram) => [datagram.fds, datagram.alive])).toEqual([
      [1, true],
      [1, true],
      [1, true],
    ]);
    expect(receiver.messages().every((datagram) => datagram.alive)).toBe(true);
    expect(lines).toEqual([]);
  });

  it("logs once when the socket is gone, and once when it works again", async () => {
    const path = join(dir, "notify.sock");
    const notifier = createNotifier({
      env: { ...process.env, NOTIFY_SOCKET: path },
      log,
      pid: process.pid,
    });
    notifier.watchdog();
    await waitUntil(() => lines.length === 1, 5000, "an error line");
    notifier.watchdog();
    notifier.ready();
    await new Promise((resolveWait) => setTimeout(resolveWait, 300));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^<3>cannot notify systemd \(watchdog pings are not arriving\): systemd-notify failed \(exit 1\): Failed to notify init system: No such file or directory/,
    );

    const receiver = await NotifyReceiver.start(dir);
    notifier.watchdog();
    // The READY that could not be delivered goes out with the next message.
    const next = await receiver.waitFor(
      (datagram) => datagram.fields.WATCHDOG === "1",
      5000,
      "WATCHDOG=1",
    );
    expect(next.fields).toEqual({ MAINPID: String(process.pid), READY: "1", WATCHDOG: "1" });
    await waitUntil(() => lines.length === 2, 5000, "a recovery line");
    expect(lines[1]).toBe("<6>notifying systemd works again\n");
  });

  it("says how to fix a missing systemd-notify", async () => {
    const notifier = createNotifier({
      env: { NOTIFY_SOCKET: join(dir, "notify.sock") },
      log,
      pid: process.pid,
      command: join(dir, "no-such-systemd-notify"),
    });
    notifier.ready();
    await waitUntil(() => lines.length === 1, 5000, "an error line");
    expect(lines[0]).toContain("no-such-systemd-notify not found; it comes with systemd");
  });
});
