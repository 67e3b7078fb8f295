/** Types of validators.js, which schemas/compile.ts generates from the TypeBox schemas. */

import type { KeyDecoding, SectionName } from "../config.js";

/** Per section of the config (per entry of a repeated one), per key: its default and how it decodes. */
export declare const CONFIG_KEYS: Readonly<
  Record<SectionName, Readonly<Record<string, Readonly<KeyDecoding>>>>
>;
/** ConfigTopLevel (schemas/config.ts). */
export declare function checkConfigTopLevel(value: unknown): boolean;
/** LenientSensorEntry (schemas/config.ts): a sensor whose driver is unknown. */
export declare function checkLenientSensorEntry(value: unknown): boolean;
/** Per driver name: its own option keys, and a `[[sensors]]` entry with them merged in. */
export declare const SENSOR_ENTRY_CHECKS: Readonly<
  Record<string, { optionKeys: readonly string[]; check(value: unknown): boolean }>
>;
/** RuleSlotBody (schemas/control.ts). */
export declare function checkRuleSlotBody(value: unknown): boolean;
/** ThresholdRuleBody (schemas/control.ts). */
export declare function checkThresholdRuleBody(value: unknown): boolean;
/** FleetThresholdsBody (schemas/fleet-thresholds.ts): a desired set as GET /fleet/desired gives it. */
export declare function checkFleetThresholdsBody(value: unknown): boolean;
