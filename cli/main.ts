#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { describeError } from "../core/errors.js";
import { VERSION } from "../core/version.js";
import { registerConfigCommands } from "./commands/config.js";
import { registerReadingCommands } from "./commands/readings.js";
import { registerStatusCommand } from "./commands/status.js";
import { registerSyncCommands } from "./commands/sync.js";
import { registerThresholdCommands } from "./commands/threshold.js";
import { CliExit, EXIT, EXIT_CODES_HELP } from "./exit.js";
import { registerWatch } from "./watch.js";

/**
 * `sensorctl readings | head`: the reader leaving is a normal end of the
 * output, not a failure (what `yes | head` does by SIGPIPE; Node ignores
 * SIGPIPE, so the write fails with EPIPE instead, as an 'error' event that
 * would otherwise crash with a stack trace).
 */
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(EXIT.ok);
  process.stderr.write(`sensorctl: cannot write the output: ${describeError(error)}\n`);
  process.exit(EXIT.failure);
});
// Nobody reads the messages any more: end with the exit code the command chose.
process.stderr.on("error", () => {});

const program = new Command()
  .name("sensorctl")
  .description("Inspect and manage sensord")
  .version(VERSION)
  .option(
    "-c, --config <file>",
    "config file (default: $SENSORD_CONFIG, then /etc/sensord/sensord.toml)",
  )
  .option(
    "--simulate",
    "with no config file anywhere, use the built-in defaults of `sensord --simulate` (database ./var/sensord.db)",
  )
  .exitOverride()
  // Commander's own messages ("error: unknown option ...") in sensorctl's style; set
  // before the commands are added, which inherit it.
  .configureOutput({
    outputError: (text, write) => write(text.replace(/^error: /, "sensorctl: ")),
  })
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
