import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderConfig } from "../../daemon/config/render.js";
import { load, loadText, problemsOf, tempDir, writeConfig } from "./helpers.js";

const SENSOR = '[[sensors]]\nid = "gas0"\ndriver = "sim"\n';

describe("[sync]", () => {
  it("is absent by default: readings stay on the device", () => {
    expect(loadText(SENSOR).sync).toBeNull();
  });

  it("resolves every key: defaults, durations, sizes, the key file against the config folder", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "api-key"), "k\n");
    const config = load(
      writeConfig(
        `${SENSOR}\n[sync]\nendpoint = "https://example.invalid/proxyLambda"\napi_key_file = "api-key"\n`,
        "sensord.toml",
        dir,
      ),
    );
    expect(config.sync).toEqual({
      endpoint: "https://example.invalid/proxyLambda",
      format: "batch",
      index: "gasdetect",
      schedule: "* * * * *",
      intervalMs: 0,
      apiKeyFile: join(dir, "api-key"),
      batchMaxReadings: 1000,
      batchMaxBytes: 262_144,
      backlogBatchMaxReadings: 2500,
      backlogBatchMaxBytes: 1_048_576,
      maxRate: 20_000,
      timeoutMs: 15_000,
      compress: true,
      alertsEndpoint: "https://example.invalid/proxyLambda/alerts",
      fleetEndpoint: "https://example.invalid/fleet/desired",
    });
    const full = loadText(
      `${SENSOR}\n[sync]\nendpoint = "http://127.0.0.1:8787/ingest"\nformat = "original"\nindex = "gas"\nschedule = "*/5 * * * *"\ninterval = "2s"\nbatch_max_readings = 50\nbatch_max_bytes = "64KiB"\nmax_rate = 100\ntimeout = "3s"\ncompress = false\n`,
    );
    expect(full.sync).toMatchObject({
      format: "original",
      index: "gas",
      schedule: "*/5 * * * *",
      intervalMs: 2000,
      batchMaxReadings: 50,
      batchMaxBytes: 65_536,
      maxRate: 100,
      timeoutMs: 3000,
      compress: false,
      apiKeyFile: null,
      fleetEndpoint: "http://127.0.0.1:8787/fleet/desired",
    });
    const off = loadText(
      `${SENSOR}\n[sync]\nendpoint = "http://127.0.0.1:8787/ingest"\nfleet_config = false\n`,
    );
    expect(off.sync?.fleetEndpoint).toBeNull();
  });

  it("sends a backlog in bigger batches, following a batch_max_bytes written out unless told otherwise", () => {
    const sync = (keys: string) =>
      loadText(`${SENSOR}\n[sync]\nendpoint = "http://127.0.0.1:8787/ingest"\n${keys}`).sync;
    expect(
      sync('backlog_batch_max_readings = 20000\nbacklog_batch_max_bytes = "4MiB"\n'),
    ).toMatchObject({
      batchMaxReadings: 1000,
      batchMaxBytes: 262_144,
      backlogBatchMaxReadings: 20_000,
      backlogBatchMaxBytes: 4_194_304,
    });
    // A batch_max_bytes written out is the endpoint's limit: the backlog keeps to it.
    expect(sync('batch_max_bytes = "100KiB"\n')).toMatchObject({
      batchMaxBytes: 102_400,
      backlogBatchMaxBytes: 102_400,
    });
    expect(sync("batch_max_readings = 100\n")).toMatchObject({
      batchMaxReadings: 100,
      backlogBatchMaxReadings: 100,
    });
    const problems = problemsOf(
      `${SENSOR}\n[sync]\nendpoint = "http://127.0.0.1:8787/ingest"\nbatch_max_readings = 2000\nbacklog_batch_max_readings = 500\nbacklog_batch_max_bytes = "64KiB"\n`,
    );
    expect(problems.get("sync.backlog_batch_max_readings")).toBe(
      "500 is below batch_max_readings (2000); set it to at least 2000, or remove it",
    );
    expect(problems.get("sync.backlog_batch_max_bytes")).toBe(
      '"64KiB" is below batch_max_bytes (256KiB); set it to at least that, or remove it',
    );
  });

  it("names every bad key with its fix", () => {
    const problems = problemsOf(
      `${SENSOR}\n[sync]\nendpoint = "ftp://x"\nschedule = "every minute"\nbatch_max_bytes = "12"\ntimeout = "soon"\napi_key_file = "/nonexistent/key"\nformt = "batch"\n`,
    );
    expect(problems.get("sync.endpoint")).toContain("is not an http:// or https:// URL");
    expect(problems.get("sync.schedule")).toContain('e.g. "*/5 * * * *"');
    expect(problems.get("sync.batch_max_bytes")).toContain('"12" is not a size');
    expect(problems.get("sync.timeout")).toContain("is not a duration");
    expect(problems.get("sync.api_key_file")).toContain("cannot read /nonexistent/key");
    expect(problems.get("sync.formt")).toContain('did you mean "format"');
    expect(problemsOf(`${SENSOR}\n[sync]\nformat = "batch"\n`).get("sync.endpoint")).toContain(
      "missing",
    );
  });

  it("renders back to the same config", () => {
    const config = loadText(
      `${SENSOR}\n[sync]\nendpoint = "http://127.0.0.1:8787/ingest"\ninterval = "2s"\nmax_rate = 100\n`,
    );
    expect(loadText(renderConfig(config)).sync).toEqual(config.sync);
  });
});
