#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { describeError } from "../daemon/errors.js";
import { VERSION } from "../daemon/version.js";
import { registerConfigCommands } from "./commands/config.js";
import { registerReadingCommands } from "./commands/readings.js";
import { registerStatusCommand } from "./commands/status.js";
import { registerSyncCommands } from "./commands/sync.js";
import { registerThresholdCommands } from "./commands/threshold.js";
import { CliExit, EXIT, EXIT_CODES_HELP } from "./exit.js";
import { registerWatch } from "./watch.js";

const program = new Command()
  .name("sensorctl")
  .description("Inspect and manage sensord")
  .version(VERSION)
  .option(
    "-c, --config <file>",
    "config file (default: $SENSORD_CONFIG, then /etc/sensord/sensord.toml)",
  )
  .exitOverride()
  .addHelpText("after", EXIT_CODES_HELP);

registerStatusCommand(program);
registerReadingCommands(program);
registerThresholdCommands(program);
registerSyncCommands(program);
registerConfigCommands(program);
registerWatch(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : EXIT.usage);
  if (error instanceof CliExit) {
    process.stderr.write(`sensorctl: ${error.message}\n`);
    process.exit(error.exitCode);
  }
  process.stderr.write(`sensorctl: ${describeError(error)}\n`);
  process.exit(EXIT.failure);
});
