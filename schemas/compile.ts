import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { Value } from "@sinclair/typebox/value";
import { parseDuration } from "../core/duration.js";
import { parseSize } from "../core/size.js";
import {
  ConfigTopLevel,
  configSections,
  type KeyDecoding,
  LenientSensorEntry,
  sensorEntrySchema,
} from "./config.js";
import { RuleSlotBody, ThresholdRuleBody } from "./control.js";
import { DRIVER_OPTION_SCHEMAS } from "./drivers/options.js";
import { FleetThresholdsBody } from "./fleet-thresholds.js";

/**
 * Turns the TypeBox schemas sensord checks at run time (the config file,
 * the control API's bodies and the fleet's desired thresholds) into plain
 * JavaScript validators, and the config sections' defaults and decoded keys
 * into a table, so the running daemon imports neither TypeBox nor its
 * compiler (~12 MiB of RSS on a Pi Zero, bench/memory.ts). Only when a check fails does the daemon load the
 * schemas, to say which key is wrong and how to fix it.
 *
 * The output is checked in (schemas/compiled/validators.js, next to its
 * hand-written .d.ts) so tests and the type checker work from a fresh checkout
 * without a build; `npm run build` regenerates it and writes the same file
 * into dist/, and test/config/compiled.test.ts fails when the two differ.
 */

/** Where the checked-in copy lives, from this file's place in the tree (source or dist). */
const SOURCE_ROOT = resolve(
  import.meta.dirname,
  import.meta.dirname.includes("/dist/") ? "../.." : "..",
);
export const VALIDATORS_FILE = join(SOURCE_ROOT, "schemas", "compiled", "validators.js");

/** A schema whose checker would need TypeBox's run-time registries cannot leave TypeBox. */
const NEEDS_TYPEBOX = /\b(format|kind)\(/;

function validator(name: string, schema: TSchema): string {
  const code = TypeCompiler.Code(schema, [], { language: "javascript" });
  if (NEEDS_TYPEBOX.test(code)) {
    throw new Error(
      `${name}: the schema uses a registered format or kind, which only TypeBox can check; keep it out of run-time validators`,
    );
  }
  return `(() => {\n${code}\n})()`;
}

/**
 * Per section of the config (per entry of a `[[repeated]]` one), per key: its
 * default and how it decodes, for daemon/config/decode.ts. A default outside
 * its own schema or range fails the build rather than a daemon's start.
 */
export function keyDecodings(): Record<string, Record<string, KeyDecoding>> {
  const sections: Record<string, Record<string, KeyDecoding>> = {};
  for (const [name, section] of Object.entries<TSchema>(configSections)) {
    const table: TSchema = section.type === "array" ? section.items : section;
    const keys: Record<string, KeyDecoding> = {};
    for (const [key, schema] of Object.entries<TSchema>(table.properties)) {
      const decoding: KeyDecoding = {
        default: schema.default,
        decode: schema.decode,
        min: schema.min,
        max: schema.max,
        example: schema.examples?.[0],
      };
      if (decoding.default !== undefined) checkDefault(`${name}.${key}`, schema, decoding);
      keys[key] = Object.fromEntries(
        Object.entries(decoding).filter(([, value]) => value !== undefined),
      );
    }
    sections[name] = keys;
  }
  return sections;
}

function checkDefault(key: string, schema: TSchema, decoding: KeyDecoding): void {
  const parse = decoding.decode === "size" ? parseSize : parseDuration;
  const amount = (text: string | undefined) => (text === undefined ? null : parse(text));
  const value = typeof decoding.default === "string" ? amount(decoding.default) : null;
  const min = amount(decoding.min);
  const max = amount(decoding.max);
  const inRange =
    decoding.decode === undefined ||
    (value !== null && (min === null || value >= min) && (max === null || value <= max));
  if (!Value.Check(schema, decoding.default) || !inRange) {
    throw new Error(`${key}: the default ${JSON.stringify(decoding.default)} is not a valid value`);
  }
}

/** The generated module's text, formatted as Biome formats it (so `biome ci` accepts it as is). */
export function renderValidators(): string {
  const drivers = DRIVER_OPTION_SCHEMAS.map(({ name, optionsSchema }) => {
    const declaresDefaults = Object.values(optionsSchema.properties).some(
      (property) => "default" in property,
    );
    // The loader does not fill defaults in: drivers apply their own (house convention, sim.ts).
    if (declaresDefaults)
      throw new Error(`driver ${name}: option schemas must not declare defaults`);
    return (
      `  ${JSON.stringify(name)}: {\n` +
      `    optionKeys: ${JSON.stringify(Object.keys(optionsSchema.properties))},\n` +
      `    check: ${validator(`driver ${name}`, sensorEntrySchema(optionsSchema))},\n  },`
    );
  });
  const text = [
    "// Generated by schemas/compile.ts from schemas/config.ts, the drivers' option",
    "// schemas, schemas/control.ts and schemas/fleet-thresholds.ts: do not edit, run `npm run build`.",
    "// biome-ignore-all lint: TypeBox's generated code, checked by test/config/compiled.test.ts",
    "",
    "// uniqueItems: TOML values are JSON values, so equal JSON text is an equal value.",
    "const hash = (element) => JSON.stringify(element);",
    "",
    `export const CONFIG_KEYS = ${JSON.stringify(keyDecodings())};`,
    "",
    `export const checkConfigTopLevel = ${validator("config top level", ConfigTopLevel)};`,
    "",
    `export const checkLenientSensorEntry = ${validator("sensor entry", LenientSensorEntry)};`,
    "",
    `export const SENSOR_ENTRY_CHECKS = {\n${drivers.join("\n")}\n};`,
    "",
    `export const checkRuleSlotBody = ${validator("RuleSlotBody", RuleSlotBody)};`,
    "",
    `export const checkThresholdRuleBody = ${validator("ThresholdRuleBody", ThresholdRuleBody)};`,
    "",
    `export const checkFleetThresholdsBody = ${validator("FleetThresholdsBody", FleetThresholdsBody)};`,
    "",
  ].join("\n");
  return biomeFormat(text);
}

function biomeFormat(text: string): string {
  const biome = join(SOURCE_ROOT, "node_modules", ".bin", "biome");
  const result = spawnSync(biome, ["format", `--stdin-file-path=${VALIDATORS_FILE}`], {
    input: text,
    encoding: "utf8",
    cwd: SOURCE_ROOT,
  });
  if (result.status !== 0) throw new Error(`biome format failed: ${result.stderr}`);
  return result.stdout;
}

if (process.argv[1]?.endsWith("compile.js")) {
  const text = renderValidators();
  const distCopy = join(import.meta.dirname, "compiled", "validators.js");
  for (const target of new Set([VALIDATORS_FILE, distCopy])) {
    mkdirSync(dirname(target), { recursive: true });
    if (!target.includes("/dist/") && readFileSync(target, "utf8") === text) continue;
    writeFileSync(target, text);
  }
}
