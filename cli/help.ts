import type { Command } from "commander";

/** Adds an "Examples:" block to a command's --help: the fastest way to learn a command. */
export function examples(command: Command, lines: readonly string[]): Command {
  return command.addHelpText(
    "after",
    `\nExamples:\n${lines.map((line) => `  $ sensorctl ${line}`).join("\n")}`,
  );
}

/** `<table|csv|json>`: an option's value placeholder that lists its choices in --help. */
export function choices(values: readonly string[]): string {
  return `<${values.join("|")}>`;
}
