#!/usr/bin/env node
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { ConfigError, describeError, EXIT_CONFIG, EXIT_USAGE } from "../core/errors.js";
import { processLogger } from "../core/logger.js";
import { VERSION } from "../core/version.js";
import { loadDaemonConfig } from "./config/load-daemon.js";
import { claimControlSocket } from "./control/services.js";
import { Daemon } from "./daemon.js";
import { openI2cBus } from "./drivers/i2c/bus.js";
import { startServiceNotifications } from "./notify/service.js";
import { probe } from "./probe/probe.js";

interface RunOptions {
  config?: string;
  simulate?: boolean;
}

function parseBusNumber(text: string): number {
  const bus = Number(text);
  if (!Number.isInteger(bus) || bus < 0)
    throw new InvalidArgumentError(`"${text}" is not an I2C bus number`);
  return bus;
}

/** SIGTERM/SIGINT must end the process within this, even if something hangs. */
const SHUTDOWN_DEADLINE_MS = 4500;

async function run(options: RunOptions): Promise<void> {
  const load = () =>
    loadDaemonConfig({
      flagPath: options.config,
      env: process.env,
      simulate: options.simulate === true,
    });
  let config: Awaited<ReturnType<typeof load>>;
  try {
    config = await load();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`sensord: ${error.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw error;
  }
  const log = processLogger(config.log.level);
  let daemon: Daemon;
  try {
    await claimControlSocket(config);
    daemon = await Daemon.start(config, log);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`sensord: ${error.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw error;
  }
  if (config.source === null) {
    log.info(
      "no config file: running on built-in defaults (simulated sensor); watch it from this folder with `sensorctl --simulate readings --since 1m` and `sensorctl --simulate alerts` (in a checkout: `node dist/cli/main.js --simulate ...`)",
    );
  }
  // Before READY: once systemd says the service is up, sensorctl can reach it.
  await daemon.serve();
  // READY=1 now: the database is open and every sensor loop has started.
  const service = startServiceNotifications(daemon, log);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal} received: flushing and stopping`);
    setTimeout(() => {
      log.error("shutdown took too long; exiting");
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    service.stop();
    daemon.stop().then(
      (flushed) => process.exit(flushed ? 0 : 1),
      (error: unknown) => {
        log.error(`shutdown failed: ${describeError(error)}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGHUP", () => {
    load().then(
      (next) =>
        daemon
          .reload(next)
          .catch((error: unknown) => log.error(`reload failed: ${describeError(error)}`)),
      // A bad edit must not take down a running daemon: keep the old config.
      (error: unknown) =>
        log.error(`reload rejected, keeping the running configuration: ${describeError(error)}`),
    );
  });
}

const program = new Command()
  .name("sensord")
  .description("Edge gas-sensor daemon: sample, alarm locally, commit every reading to SQLite")
  .version(VERSION)
  .option(
    "-c, --config <file>",
    "config file (default: $SENSORD_CONFIG, then /etc/sensord/sensord.toml)",
  )
  .option("--simulate", "run on the simulated sensor when no config file exists")
  .exitOverride()
  // Commander's own messages in sensord's style ("sensord: unknown option ..."), like every other one.
  .configureOutput({
    outputError: (text, write) => write(text.replace(/^error: /, "sensord: ")),
  })
  .action((options: RunOptions) => run(options));

program
  .command("probe")
  .description("scan I2C buses for supported boards, list serial ports, print a config snippet")
  .option("--bus <n>", "only this I2C bus number", parseBusNumber)
  .action(async (options: { bus?: number }) => {
    process.stdout.write(await probe(options.bus ?? null, { openI2cBus, devDir: "/dev" }));
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) {
    process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE);
  }
  process.stderr.write(`sensord: ${describeError(error)}\n`);
  process.exit(1);
});
