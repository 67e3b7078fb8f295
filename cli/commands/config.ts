import type { Command } from "commander";
import { renderConfig } from "../../daemon/config/render.js";
import { configFor, print } from "../context.js";
import { examples } from "../help.js";

export function registerConfigCommands(program: Command): void {
  const check = program
    .command("config")
    .description("configuration tools")
    .command("check")
    .description(
      "validate a config file and print the effective configuration (exit 0 valid, 78 invalid)",
    )
    .argument(
      "[file]",
      "config file (default: --config, $SENSORD_CONFIG, /etc/sensord/sensord.toml)",
    )
    .action((file: string | undefined) => {
      if (file !== undefined) program.setOptionValue("config", file);
      const config = configFor(program);
      print(`# ${config.source ?? "built-in defaults"}: valid\n${renderConfig(config)}`);
    });
  examples(check, ["config check /etc/sensord/sensord.toml", "config check ./sensord.toml"]);
}
