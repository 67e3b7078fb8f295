import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { gunzipSync } from "node:zlib";

/**
 * The minimal receiver: what peers.md's Fluent Bit figures were measured
 * against (an HTTP endpoint on loopback that takes the records and answers
 * 200). It gunzips, parses the JSON, counts the readings and remembers every
 * id so a duplicate is counted, but stores nothing. Comparing drains into it
 * compares the agents; the drain into sensord-ingest adds a durable,
 * idempotent SQLite store on the receiving side.
 *
 * Runs as a process of its own (`node dist/bench/receiver.js [PORT] [LIVE_SENSOR]`): prints
 * `listening on http://127.0.0.1:PORT`; `GET /healthz` answers
 * `{"readings","duplicates","batches"}` as sensord-ingest does, plus
 * `listeningAt` and `lastReadingAt` (epoch ms): peers.md timed Fluent Bit from
 * the receiver's return to the last record, so the drain is timed here too.
 * A given PORT lets an agent be started (and fail) against it before it listens.
 * Per sensor, `sensors` has the distinct readings and when the last arrived (a
 * sensord draining a backlog also sends its live sensor's readings); for the
 * sensor named by LIVE_SENSOR (argv[3]), `live` holds each reading's arrival
 * and its `ts` (epoch ms, both this machine's clock).
 */
const seen = new Set<string>();
const liveSensor = process.argv[3] ?? "";
const totals = {
  readings: 0,
  duplicates: 0,
  batches: 0,
  listeningAt: 0,
  firstRequestAt: 0,
  lastReadingAt: 0,
  sensors: {} as Record<string, { readings: number; lastAt: number }>,
  live: [] as Array<[number, number]>,
};

interface ReceivedReading {
  id: string;
  sensor: string;
  ts: string;
}

function receive(request: IncomingMessage, response: ServerResponse): void {
  if (request.method === "GET") {
    // Only its counts: a sensord's fleet-threshold poll finds no such route, as at a receiver without one.
    if (request.url !== "/healthz") {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify(totals));
    return;
  }
  if (totals.firstRequestAt === 0) totals.firstRequestAt = Date.now();
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    let body = Buffer.concat(chunks);
    if (request.headers["content-encoding"] === "gzip") body = gunzipSync(body);
    const batch = JSON.parse(body.toString("utf8")) as { readings?: ReceivedReading[] };
    const now = Date.now();
    let accepted = 0;
    for (const reading of batch.readings ?? []) {
      if (seen.has(reading.id)) continue;
      seen.add(reading.id);
      accepted++;
      let sensor = totals.sensors[reading.sensor];
      if (sensor === undefined) {
        sensor = { readings: 0, lastAt: 0 };
        totals.sensors[reading.sensor] = sensor;
      }
      sensor.readings++;
      sensor.lastAt = now;
      if (reading.sensor === liveSensor) totals.live.push([now, Date.parse(reading.ts)]);
    }
    const duplicates = (batch.readings?.length ?? 0) - accepted;
    totals.readings += accepted;
    totals.duplicates += duplicates;
    totals.batches++;
    if (accepted > 0) totals.lastReadingAt = now;
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ accepted, duplicates }));
  });
}

if (process.argv[1]?.endsWith("receiver.js")) {
  const server = createServer({ keepAliveTimeout: 60_000 }, receive);
  server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
    totals.listeningAt = Date.now();
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no TCP address");
    process.stdout.write(`listening on http://127.0.0.1:${address.port}\n`);
  });
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
}
