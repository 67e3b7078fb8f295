import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore, type SqliteStore } from "../../daemon/store/store.js";
import type { FleetThresholdsTarget } from "../../sync/fleet.js";
import { READINGS_OUTPUT } from "../../sync/output/names.js";
import { SyncWorker } from "../../sync/worker.js";
import { memoryLogger } from "../store/helpers.js";
import { makeTempDir, waitUntil } from "../support/processes.js";
import { testSyncConfig } from "./config.js";

interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  atMs: number;
}

/** POST /ingest answers 200; GET /fleet/desired answers what `desired` says, or never. */
async function startServer(
  desired: (
    headers: IncomingHttpHeaders,
  ) => { status: number; body?: string; etag?: string } | "hang",
) {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      seen.push({
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        atMs: Date.now(),
      });
      if (req.method === "POST") {
        res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
        return;
      }
      const answer = desired(req.headers);
      if (answer === "hang") return;
      res
        .writeHead(answer.status, answer.etag === undefined ? {} : { etag: `"${answer.etag}"` })
        .end(answer.body);
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A target that records what the fetch handed it. */
function recordingTarget(lastEtag: string | null) {
  const calls: string[] = [];
  const target: FleetThresholdsTarget = {
    lastEtag: () => lastEtag,
    received: (body, etag) => calls.push(`received ${etag} ${JSON.stringify(body)}`),
    unchanged: () => calls.push("unchanged"),
    failed: (error) => calls.push(`failed ${error}`),
    report: () => 'applied;etag="g1-0123abcd"',
  };
  return { target, calls };
}

describe("the fleet fetch in the sync cycle", () => {
  let dir: string;
  let cleanup: () => void;
  let store: SqliteStore;
  let server: Awaited<ReturnType<typeof startServer>> | null = null;
  let worker: SyncWorker | null = null;
  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir());
    store = openStore({ path: join(dir, "s.db"), maxBytes: 1 << 26, log: memoryLogger() });
    store.commit(
      [
        {
          seq: 1,
          sensor: "gas0",
          gas: "no2",
          value: 90,
          unit: "ppb",
          tsMs: Date.now(),
          flags: 0,
          sensorId: null,
          sensorType: null,
        },
      ],
      [],
    );
  });
  afterEach(async () => {
    await worker?.stop();
    worker = null;
    await server?.close();
    store.close();
    cleanup();
  });

  function startWorker(url: string, target: FleetThresholdsTarget, timeoutMs = 2000): SyncWorker {
    worker = new SyncWorker({
      config: testSyncConfig(`${url}/ingest`, { fleetEndpoint: `${url}/fleet/desired`, timeoutMs }),
      device: { id: "pi-1", group: "school 1", gps: null, timezone: "UTC" },
      queue: store.syncQueue(READINGS_OUTPUT),
      log: memoryLogger(),
      apiKey: () => "k-1",
      fleet: target,
    });
    return worker;
  }

  it("a fleet side that never answers delays no upload; the fetch gives up after the upload timeout", async () => {
    server = await startServer(() => "hang");
    const { target, calls } = recordingTarget(null);
    const cycle = startWorker(server.url, target, 300).trigger();
    const startedMs = Date.now();
    await waitUntil(
      () => server?.seen.some((request) => request.method === "POST") ?? false,
      2000,
      "the upload",
    );
    const post = server.seen.find((request) => request.method === "POST");
    expect(post?.atMs).toBeLessThan(startedMs + 250);
    expect(post?.headers["x-sensord-thresholds"]).toBe('applied;etag="g1-0123abcd"');
    await cycle;
    expect(calls).toEqual([expect.stringMatching(/^failed .*(timed? ?out|deadline)/i)]);
  });

  it("asks with If-None-Match, the key and the device; 304 is unchanged, 200 is handed over, 401 is a failure", async () => {
    const answers = [
      { status: 304 },
      { status: 200, etag: "g2-0123abcd", body: '{"source":"group","etag":"g2-0123abcd"}' },
      { status: 401, body: '{"code":"INGEST_UNAUTHORIZED"}' },
    ];
    server = await startServer(() => answers.shift() ?? { status: 500 });
    const { target, calls } = recordingTarget("g1-0123abcd");
    const sync = startWorker(server.url, target);
    for (let cycle = 0; cycle < 3; cycle++) await sync.trigger({ force: true });
    const asks = server.seen.filter((request) => request.method === "GET");
    expect(asks).toHaveLength(3);
    expect(asks[0]?.path).toBe("/fleet/desired?device=pi-1&group=school+1");
    expect(asks[0]?.headers).toMatchObject({
      "if-none-match": '"g1-0123abcd"',
      "x-api-key": "k-1",
    });
    expect(calls).toEqual([
      "unchanged",
      'received g2-0123abcd {"source":"group","etag":"g2-0123abcd"}',
      expect.stringMatching(/^failed HTTP 401 from http:\/\/127\.0\.0\.1:\d+\/fleet\/desired$/),
    ]);
  });
});
