import type { Command } from "commander";
import { SensordError } from "../../core/errors.js";
import { openStoreReader, type SqliteStoreReader } from "../../daemon/store/reader.js";
import { configFor, print } from "../context.js";
import { controlRequest, DaemonDown } from "../control-client.js";
import { CliExit, EXIT } from "../exit.js";
import { examples } from "../help.js";
import { isStatusReport, offlineStatus } from "../status/offline.js";
import { renderStatus } from "../status/render.js";

export function registerStatusCommand(program: Command): void {
  const status = program
    .command("status")
    .description(
      "one-screen summary: sensors, alarms, buffer, sync, MQTT (exit 69 when sensord is not running, after showing what the database knows)",
    )
    .option("--json", "print the status as one JSON document")
    .action(async (options: { json?: boolean }) => {
      const config = configFor(program);
      const show = (report: unknown, rendered: string) =>
        print(options.json ? JSON.stringify(report, null, 2) : rendered);
      let down: string;
      if (config.control.socket === null) {
        down = 'the control socket is off ([control] socket = ""), so sensord cannot be asked';
      } else {
        try {
          const answer = await controlRequest(config.control.socket, "GET", "/v1/status");
          if (answer.status !== 200 || !isStatusReport(answer.body)) {
            throw new CliExit(EXIT.failure, `sensord answered status with HTTP ${answer.status}`);
          }
          show(answer.body, renderStatus(answer.body, Date.now()));
          return;
        } catch (error) {
          if (!(error instanceof DaemonDown)) throw error;
          down = error.message;
        }
      }
      let reader: SqliteStoreReader | null = null;
      let dbProblem = "";
      try {
        reader = openStoreReader(config.storage.path);
      } catch (error) {
        if (!(error instanceof SensordError)) throw error;
        dbProblem = `\n${error.message}`;
      }
      try {
        const report = offlineStatus(config, reader, Date.now());
        show(report, renderStatus(report, Date.now()));
      } finally {
        reader?.close();
      }
      throw new CliExit(EXIT.unavailable, `${down}${dbProblem}`);
    });
  examples(status, ["status", "--config /etc/sensord/sensord.toml status --json"]);
}
