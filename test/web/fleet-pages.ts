import type { BrowserContext } from "playwright-core";
import { afterAll, afterEach, beforeAll } from "vitest";
import { OPENSEARCH_ENV, type STORE_KINDS } from "../cloud/helpers.js";
import { IngestProcess, killAllIngest } from "../cloud/ingest-process.js";
import { type OpenSearchStandIn, startOpenSearchStandIn } from "../support/opensearch/server.js";
import { createTestDatabase } from "../support/postgres-db.js";
import { launchChromium } from "./browser.js";

export interface FleetIngest {
  ingest: IngestProcess;
  url: string;
  /** The OpenSearch stand-in behind it, for the caller to stop; null on the other stores. */
  standIn: OpenSearchStandIn | null;
}

/**
 * A real sensord-ingest (the built binary) on a fresh database of `kind`,
 * as the fleet page tests run it: a SQLite file under `dir`, a throwaway
 * PostgreSQL database, or the OpenSearch stand-in. `extra` are more options
 * (`--api-key-file`).
 */
async function startFleetIngest(
  kind: (typeof STORE_KINDS)[number],
  dir: string,
  extra: string[] = [],
): Promise<FleetIngest> {
  let args: string[];
  let env: Record<string, string> = {};
  let standIn: OpenSearchStandIn | null = null;
  if (kind === "postgres") {
    const database = await createTestDatabase("web");
    args = ["--db", database.url];
    env = { PGPASSWORD: database.password };
  } else if (kind === "opensearch") {
    // The child signs with the stand-in's test keys from its environment.
    standIn = await startOpenSearchStandIn();
    args = ["--db", `opensearch+${standIn.url}`];
    env = { ...OPENSEARCH_ENV };
  } else {
    args = ["--db", `${dir}/ingest-${Date.now()}.db`];
  }
  const ingest = new IngestProcess(
    ["--listen", "127.0.0.1:0", ...args, "--log-level", "warn", ...extra],
    { env },
  );
  return { ingest, url: await ingest.ready(), standIn };
}

/**
 * A fleet page test file's setup: one headless Chromium for the file, an
 * ingest per store kind started by `start` (an ingest that died fails the
 * test that saw it), and at the end everything stopped and `temp` removed.
 */
export function useFleetPages(temp: { dir: string; cleanup: () => void }) {
  let browser: BrowserContext | null = null;
  let closeBrowser: (() => Promise<void>) | null = null;
  let ingest: IngestProcess | null = null;
  const standIns: OpenSearchStandIn[] = [];
  beforeAll(async () => {
    ({ context: browser, close: closeBrowser } = await launchChromium());
  }, 60_000);
  afterEach(() => {
    if (ingest !== null && !ingest.running) throw new Error(`ingest died: ${ingest.stderr}`);
  });
  afterAll(async () => {
    await closeBrowser?.();
    await killAllIngest();
    for (const standIn of standIns) await standIn.stop();
    temp.cleanup();
  });
  return {
    browser(): BrowserContext {
      if (browser === null) throw new Error("Chromium is not running (beforeAll failed?)");
      return browser;
    },
    /** Starts the ingest on `kind`; its URL. */
    async start(kind: (typeof STORE_KINDS)[number], extra: string[] = []): Promise<string> {
      const started = await startFleetIngest(kind, temp.dir, extra);
      ingest = started.ingest;
      if (started.standIn !== null) standIns.push(started.standIn);
      return started.url;
    },
    async stop(): Promise<void> {
      await ingest?.stop();
    },
  };
}
