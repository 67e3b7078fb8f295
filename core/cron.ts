import { createRequire } from "node:module";

type NodeCron = typeof import("node-cron");

let loaded: NodeCron | null = null;

/**
 * node-cron, loaded at first use: a config without a cron schedule (no
 * `[sync]`, or `[sync] interval`) never carries it (~2 MiB of RSS on a Pi).
 * Required, not imported, so the config check (synchronous) and the
 * scheduler share its one CommonJS copy.
 */
export function nodeCron(): NodeCron {
  loaded ??= createRequire(import.meta.url)("node-cron") as NodeCron;
  return loaded;
}
