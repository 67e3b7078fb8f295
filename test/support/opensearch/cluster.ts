import { randomUUID } from "node:crypto";
import { badRequest, type ErrorCause, indexNotFound, OpenSearchError } from "./errors.js";
import { asObject, globMatch, isObject, type JsonObject } from "./values.js";

/**
 * The stand-in's data: indices with mappings and documents, index
 * templates, and OpenSearch's near-real-time visibility (a document is
 * searchable after the next refresh, every second, unless the write asked
 * for `refresh`; GET by id sees it at once).
 */

export interface FieldMapping {
  type: string;
  format?: string;
  index?: boolean;
  doc_values?: boolean;
}

export interface Mappings {
  dynamic?: string | boolean;
  properties: Record<string, FieldMapping>;
}

export interface StoredDoc {
  index: string;
  id: string;
  source: JsonObject;
  seqNo: number;
  /** Epoch ms from which searches see it. */
  visibleAt: number;
}

export interface Index {
  name: string;
  uuid: string;
  mappings: Mappings;
  docs: Map<string, StoredDoc>;
  seqNo: number;
}

interface Template {
  patterns: string[];
  mappings: Mappings | null;
}

/** OpenSearch's default index.refresh_interval. */
export const REFRESH_INTERVAL_MS = 1000;

export class Cluster {
  readonly indices = new Map<string, Index>();
  readonly templates = new Map<string, Template>();

  putTemplate(name: string, body: unknown): void {
    const spec = asObject(body);
    const patterns = spec.index_patterns;
    if (!Array.isArray(patterns) || !patterns.every((p) => typeof p === "string")) {
      throw new OpenSearchError(400, {
        type: "action_request_validation_exception",
        reason: "Validation Failed: 1: index patterns are missing;",
      });
    }
    const mappings = asObject(asObject(spec.template).mappings);
    this.templates.set(name, {
      patterns,
      mappings: isObject(mappings.properties) ? parseMappings(mappings) : null,
    });
  }

  createIndex(name: string, body: unknown): Index {
    if (this.indices.has(name)) {
      const existing = this.indices.get(name) as Index;
      throw new OpenSearchError(400, {
        type: "resource_already_exists_exception",
        reason: `index [${name}/${existing.uuid}] already exists`,
        index: name,
        index_uuid: existing.uuid,
      });
    }
    if (name !== name.toLowerCase() || /[\\/*?"<>| ,#:]/.test(name) || /^[-_+]/.test(name)) {
      throw new OpenSearchError(400, {
        type: "invalid_index_name_exception",
        reason: `Invalid index name [${name}], must be lowercase`,
        index: name,
      });
    }
    const explicit = asObject(asObject(body).mappings);
    const template = [...this.templates.values()].find((t) =>
      t.patterns.some((pattern) => globMatch(pattern, name)),
    );
    const mappings = isObject(explicit.properties)
      ? parseMappings(explicit)
      : (template?.mappings ?? { dynamic: true, properties: {} });
    const index: Index = {
      name,
      uuid: randomUUID().replaceAll("-", "").slice(0, 22),
      mappings: { dynamic: mappings.dynamic, properties: { ...mappings.properties } },
      docs: new Map(),
      seqNo: 0,
    };
    this.indices.set(name, index);
    return index;
  }

  /** Comma-separated names and patterns; a missing concrete name is 404, a pattern matching nothing is no index. */
  resolve(expression: string): Index[] {
    const out = new Map<string, Index>();
    for (const part of expression.split(",")) {
      if (part === "_all" || part === "*") {
        for (const index of this.indices.values()) out.set(index.name, index);
      } else if (part.includes("*")) {
        for (const index of this.indices.values()) {
          if (globMatch(part, index.name)) out.set(index.name, index);
        }
      } else {
        const index = this.indices.get(part);
        if (index === undefined) throw indexNotFound(part);
        out.set(part, index);
      }
    }
    return [...out.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  deleteIndices(expression: string): void {
    for (const index of this.resolve(expression)) this.indices.delete(index.name);
  }

  /** Index (creating it from a template) or the item's error. */
  create(
    indexName: string,
    id: string,
    source: unknown,
    visibleAt: number,
  ):
    | { status: 201; doc: StoredDoc; index: Index }
    | { status: number; error: ErrorCause; index: Index | null } {
    let index = this.indices.get(indexName);
    if (index === undefined) {
      try {
        index = this.createIndex(indexName, {});
      } catch (error) {
        if (error instanceof OpenSearchError)
          return { status: error.status, error: error.cause_, index: null };
        throw error;
      }
    }
    const where = { index: index.name, index_uuid: index.uuid, shard: "0" };
    if (Buffer.byteLength(id) > 512) {
      return {
        status: 400,
        error: {
          type: "illegal_argument_exception",
          reason: `id [${id.slice(0, 20)}...] is too long, must be no longer than 512 bytes but was: ${Buffer.byteLength(id)}`,
        },
        index,
      };
    }
    if (index.docs.has(id)) {
      return {
        status: 409,
        error: {
          type: "version_conflict_engine_exception",
          reason: `[${id}]: version conflict, document already exists (current version [1])`,
          ...where,
        },
        index,
      };
    }
    if (!isObject(source)) {
      return {
        status: 400,
        error: { type: "mapper_parsing_exception", reason: "failed to parse", ...where },
        index,
      };
    }
    const problem = checkDocument(index.mappings, id, source);
    if (problem !== null) return { status: 400, error: { ...problem, ...where }, index };
    const doc: StoredDoc = { index: index.name, id, source, seqNo: index.seqNo++, visibleAt };
    index.docs.set(id, doc);
    return { status: 201, doc, index };
  }

  /** `PUT _doc/<id>`: like create, but a document stored under `id` before is replaced. */
  replace(
    indexName: string,
    id: string,
    source: unknown,
    visibleAt: number,
  ): ReturnType<Cluster["create"]> & { replaced: boolean } {
    const docs = this.indices.get(indexName)?.docs;
    const before = docs?.get(id);
    docs?.delete(id);
    const outcome = this.create(indexName, id, source, visibleAt);
    if ("error" in outcome && before !== undefined) docs?.set(id, before);
    return { ...outcome, replaced: before !== undefined };
  }

  /** Makes every document searchable now (`POST _refresh`, `?refresh=true`). */
  refresh(): void {
    for (const index of this.indices.values()) {
      for (const doc of index.docs.values()) doc.visibleAt = 0;
    }
  }
}

function parseMappings(body: JsonObject): Mappings {
  const properties: Record<string, FieldMapping> = {};
  for (const [name, spec] of Object.entries(asObject(body.properties))) {
    const field = asObject(spec);
    if (typeof field.type !== "string")
      throw badRequest(`No type specified for field [${name}]`, "mapper_parsing_exception");
    properties[name] = {
      type: field.type,
      ...(typeof field.format === "string" ? { format: field.format } : {}),
      ...(typeof field.index === "boolean" ? { index: field.index } : {}),
      ...(typeof field.doc_values === "boolean" ? { doc_values: field.doc_values } : {}),
    };
  }
  const dynamic = body.dynamic;
  return {
    dynamic: typeof dynamic === "string" || typeof dynamic === "boolean" ? dynamic : true,
    properties,
  };
}

/**
 * The mapping's verdict on a new document: strict mappings refuse unknown
 * fields (strict_dynamic_mapping_exception), and values a field's type
 * cannot parse are mapper_parsing_exception. Dynamic mappings add what
 * they see: whole numbers as long, others as float (OpenSearch's dynamic
 * mapping), strings as keyword.
 */
function checkDocument(mappings: Mappings, id: string, source: JsonObject): ErrorCause | null {
  for (const [name, value] of Object.entries(source)) {
    const field = mappings.properties[name];
    if (field === undefined) {
      if (
        mappings.dynamic === "strict" ||
        mappings.dynamic === "false" ||
        mappings.dynamic === false
      ) {
        if (mappings.dynamic === "strict") {
          return {
            type: "strict_dynamic_mapping_exception",
            reason: `mapping set to strict, dynamic introduction of [${name}] within [_doc] is not allowed`,
          };
        }
        continue;
      }
      mappings.properties[name] = {
        type:
          typeof value === "number"
            ? Number.isInteger(value)
              ? "long"
              : "float"
            : typeof value === "boolean"
              ? "boolean"
              : "keyword",
      };
      continue;
    }
    if (value === null) continue;
    if (!parses(field, value)) {
      return {
        type: "mapper_parsing_exception",
        reason: `failed to parse field [${name}] of type [${field.type}] in document with id '${id}'. Preview of field's value: '${typeof value === "string" ? value : JSON.stringify(value)}'`,
      };
    }
  }
  return null;
}

function parses(field: FieldMapping, value: unknown): boolean {
  switch (field.type) {
    case "keyword":
      return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
    case "double":
    case "float":
    case "long":
    case "integer":
      return (
        (typeof value === "number" && Number.isFinite(value)) ||
        (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value)))
      );
    case "date":
      return typeof value === "number" || (typeof value === "string" && /^-?\d+$/.test(value));
    case "geo_point": {
      if (typeof value === "string") {
        const [lat, lon, extra] = value.split(",").map((part) => Number(part.trim()));
        return extra === undefined && validLatLon(lat, lon);
      }
      const point = asObject(value);
      return validLatLon(point.lat, point.lon);
    }
    case "boolean":
      return typeof value === "boolean";
    default:
      return true;
  }
}

function validLatLon(lat: unknown, lon: unknown): boolean {
  return (
    typeof lat === "number" &&
    typeof lon === "number" &&
    Math.abs(lat) <= 90 &&
    Math.abs(lon) <= 180
  );
}

/**
 * A field's doc value as searches, sorts and aggregations see it: a float
 * is stored in 32 bits (so 412.3 reads back as 412.29998779296875), a
 * keyword as its text, a date as epoch ms. Absent when the field has no
 * doc values.
 */
export function docValue(index: Index, doc: StoredDoc, field: string): string | number | undefined {
  const raw = doc.source[field];
  if (raw === undefined || raw === null) return undefined;
  const mapping = index.mappings.properties[field];
  if (mapping === undefined || mapping.doc_values === false) return undefined;
  switch (mapping.type) {
    case "keyword":
      return String(raw);
    case "float":
      return Math.fround(Number(raw));
    case "double":
    case "long":
    case "integer":
    case "date":
      return Number(raw);
    default:
      return undefined;
  }
}
