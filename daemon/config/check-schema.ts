import type { TSchema } from "@sinclair/typebox";
import { type ValueError, ValueErrorType } from "@sinclair/typebox/errors";
import { Value } from "@sinclair/typebox/value";
import { DURATION_HINT } from "../../core/duration.js";
import { SIZE_HINT } from "../../core/size.js";
import { DURATION_PATTERN, SENSOR_ID_PATTERN, SIZE_PATTERN } from "../../schemas/config.js";
import { GASES, PRINTABLE } from "../../schemas/vocabulary.js";
import { describeValue, type Problems, pointerToKey, quoteList, tomlType } from "./problems.js";
import { didYouMean } from "./suggest.js";

/** What a list of literal choices is called in messages, by the key that holds it. */
const CHOICE_NAMES: Record<string, string> = {
  unit: "unit",
  gas: "gas",
  op: "operator",
  severity: "severity",
  level: "log level",
  preset: "preset",
};

export interface SchemaCheckOptions {
  /** Appended to "unknown key" messages for keys directly in `value` (e.g. which driver's keys apply). */
  keysNote?: string;
}

/**
 * Validates `value` against `schema` and adds one problem per bad key, each
 * saying what is wrong and how to fix it (TypeBox's own messages say only
 * "Expected string"). `prefix` is the dotted key of `value` in the file.
 */
export function checkSchema(
  schema: TSchema,
  value: unknown,
  prefix: string,
  problems: Problems,
  options: SchemaCheckOptions = {},
): void {
  for (const error of Value.Errors(schema, value)) {
    const key = pointerToKey(prefix, error.path);
    problems.add(key, explain(error, prefix, options));
  }
}

function lastSegment(pointer: string): string {
  const parts = pointer.split("/");
  return (parts[parts.length - 1] ?? "").replaceAll("~1", "/").replaceAll("~0", "~");
}

function explain(error: ValueError, prefix: string, options: SchemaCheckOptions): string {
  const { schema, value } = error;
  const name = lastSegment(error.path);
  switch (error.type) {
    case ValueErrorType.ObjectAdditionalProperties:
      return unknownKey(error, prefix, options);
    case ValueErrorType.ObjectRequiredProperty:
      return `missing; add ${name} = ${example(schema)}`;
    case ValueErrorType.Union:
      return badChoice(schema, value, name);
    case ValueErrorType.StringPattern:
      return badPattern(schema, value);
    case ValueErrorType.StringMinLength:
      return "must not be empty";
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.IntegerMinimum:
      return `must be at least ${schema.minimum}, got ${String(value)}`;
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMaximum:
      return `must be at most ${schema.maximum}, got ${String(value)}`;
    case ValueErrorType.String:
    case ValueErrorType.Number:
    case ValueErrorType.Integer:
    case ValueErrorType.Boolean:
    case ValueErrorType.Object:
    case ValueErrorType.Array:
      return wrongType(schema, value, name, prefix === "" && error.path.lastIndexOf("/") === 0);
    default:
      return `${error.message}, got ${describeValue(value)}`;
  }
}

function unknownKey(error: ValueError, prefix: string, options: SchemaCheckOptions): string {
  const name = lastSegment(error.path);
  const allowed = Object.keys(error.schema.properties ?? {});
  const parentPointer = error.path.slice(0, error.path.lastIndexOf("/"));
  if (parentPointer.endsWith("/channels")) {
    return `unknown gas "${name}";${didYouMean(name, GASES)} channels are keyed by gas: ${GASES.join(", ")}`;
  }
  const where = pointerToKey(prefix, parentPointer);
  const section = where === "" ? "at the top level" : `in ${where}`;
  const note = parentPointer === "" && options.keysNote ? ` (${options.keysNote})` : "";
  return (
    `unknown key "${name}" ${section};${didYouMean(name, allowed)} ` +
    `remove it or use one of: ${allowed.join(", ")}${note}`
  );
}

function literals(schema: TSchema): string[] | null {
  const members: unknown = schema.anyOf;
  if (!Array.isArray(members)) return null;
  const values = members.map((member: TSchema) => member.const);
  return values.every((item) => typeof item === "string") ? values : null;
}

/** The members of a union of number literals (`qos = 0 | 1`), else null. */
function numberLiterals(schema: TSchema): number[] | null {
  const members: unknown = schema.anyOf;
  if (!Array.isArray(members)) return null;
  const values = members.map((member: TSchema) => member.const);
  return values.every((item) => typeof item === "number") ? values : null;
}

function badChoice(schema: TSchema, value: unknown, name: string): string {
  const numbers = numberLiterals(schema);
  if (numbers !== null) {
    const allowed =
      numbers.length <= 2
        ? numbers.join(" or ")
        : `one of ${numbers.slice(0, -1).join(", ")} or ${numbers.at(-1)}`;
    return `must be ${allowed}, got ${describeValue(value)}`;
  }
  const choices = literals(schema);
  if (choices === null) return `invalid value ${describeValue(value)}`;
  const what = CHOICE_NAMES[name] ?? "value";
  if (typeof value !== "string") {
    return `expected a string, one of ${quoteList(choices)}; got ${describeValue(value)}`;
  }
  return `unknown ${what} "${value}";${didYouMean(value, choices)} use one of: ${choices.join(", ")}`;
}

function badPattern(schema: TSchema, value: unknown): string {
  const text = JSON.stringify(value);
  if (schema.pattern === DURATION_PATTERN) return `${text} is not a duration; ${DURATION_HINT}`;
  if (schema.pattern === SIZE_PATTERN) return `${text} is not a size; ${SIZE_HINT}`;
  if (schema.pattern === SENSOR_ID_PATTERN) {
    return (
      `${text} is not a valid sensor id; start with a letter or digit, then use only ` +
      'letters, digits, "_", "." and "-", at most 64 characters in all'
    );
  }
  if (schema.pattern === PRINTABLE) {
    return `${text} holds a control character (tab, newline, NUL...); use printable characters only`;
  }
  return `${text} does not match the pattern ${String(schema.pattern)}`;
}

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  number: "a number",
  integer: "an integer",
  boolean: "true or false",
  object: "a table",
  array: "an array",
};

function wrongType(schema: TSchema, value: unknown, name: string, topLevel: boolean): string {
  const expected = TYPE_NAMES[String(schema.type)] ?? String(schema.type);
  const got = `expected ${expected}, got ${describeValue(value)}`;
  const actual = tomlType(value);
  if (schema.pattern === DURATION_PATTERN || schema.pattern === SIZE_PATTERN) {
    const what = schema.pattern === DURATION_PATTERN ? "a duration" : "a size";
    const hint = schema.pattern === DURATION_PATTERN ? DURATION_HINT : SIZE_HINT;
    return `expected ${what} (a string), got ${describeValue(value)}; ${hint}`;
  }
  if (schema.type === "string" && ["integer", "float", "boolean"].includes(actual)) {
    return `${got}; put it in quotes: ${name} = "${String(value)}"`;
  }
  if ((schema.type === "number" || schema.type === "integer") && typeof value === "string") {
    const asNumber = Number(value);
    if (value.trim() !== "" && Number.isFinite(asNumber)) {
      return `${got}; remove the quotes: ${name} = ${asNumber}`;
    }
  }
  if (schema.type === "array" && actual === "table") {
    return `${got}; write each entry as [[${name}]] (double brackets)`;
  }
  if (schema.type === "object" && topLevel) {
    return `${got}; write it as a section: [${name}]`;
  }
  return got;
}

/** A placeholder for "add key = ..." messages. */
function example(schema: TSchema): string {
  const choices = literals(schema);
  if (choices !== null) return `"${choices[0]}" (one of: ${choices.join(", ")})`;
  if (schema.type === "number" || schema.type === "integer") return "<number>";
  if (schema.type === "boolean") return "true";
  return '"..."';
}
