import type { BatchReading, OriginalDocument } from "../schemas/batch.js";
import { contentId } from "./batch.js";

export interface OriginalDevice {
  /** device.group: the original system's `groupid`. */
  group: string;
  /** `"lat, lng"`, or null to leave the key out. */
  gps: string | null;
  /** IANA zone the original consumers read `createdtime` in, e.g. Asia/Seoul. */
  timezone: string;
}

export interface OriginalItem {
  seq: number;
  reading: BatchReading;
}

export interface OriginalUpload {
  document: OriginalDocument;
  /** Store sequence numbers of the readings in the document, to mark them sent together. */
  seqs: number[];
}

interface Cycle {
  document: OriginalDocument;
  seqs: number[];
  ids: string[];
}

/**
 * The original system posted one document per sampling cycle, so readings are
 * grouped by (sensor, ts): a sampler stamps every channel of one read with the
 * same ts. Documents come out in the order their first reading came in, gases
 * in the order they appear. A gas seen twice in one cycle (not expected) starts
 * another document rather than overwriting the first value.
 */
export function originalDocuments(
  device: OriginalDevice,
  readings: OriginalItem[],
): OriginalUpload[] {
  const cycles: Cycle[] = [];
  const open = new Map<string, Cycle>();
  const createdtime = localTimeFormatter(device.timezone);
  for (const { seq, reading } of readings) {
    const key = `${reading.sensor}\u0000${reading.ts}`;
    let cycle = open.get(key);
    if (cycle === undefined || reading.gas in cycle.document) {
      cycle = { document: header(device), seqs: [], ids: [] };
      cycles.push(cycle);
      open.set(key, cycle);
    }
    cycle.document[reading.gas] = {
      sensorid: reading.sensorId ?? "",
      sensortype: reading.sensorType ?? "",
      value: reading.value.toFixed(2),
      createdtime: createdtime(reading.ts),
    };
    cycle.seqs.push(seq);
    cycle.ids.push(reading.id);
  }
  return cycles.map((cycle) => {
    // Reading ids are globally unique, so a hash of them names the document
    // the same way however often it is re-sent: a downstream can dedupe on it.
    cycle.document.id = contentId("sensord.original.v1", cycle.ids);
    return { document: cycle.document, seqs: cycle.seqs };
  });
}

/** `id` first (filled in last), then groupid and gps: the original's key order. */
function header(device: OriginalDevice): OriginalDocument {
  const document: OriginalDocument = { id: "", groupid: device.group };
  if (device.gps !== null) document.gps = device.gps;
  return document;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * `YYYY-MM-DD HH:mm:ss` wall-clock time in `timeZone`, no offset, as the
 * original Pi wrote it. Intl applies the zone's DST rules for that instant.
 * The last result is cached: every reading of a cycle shares one ts.
 */
export function localTimeFormatter(timeZone: string): (isoTs: string) => string {
  let format = formatters.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, format);
  }
  const zoned = format;
  let lastTs = "";
  let lastText = "";
  return (isoTs) => {
    if (isoTs !== lastTs) {
      lastText = formatParts(zoned.formatToParts(new Date(isoTs)));
      lastTs = isoTs;
    }
    return lastText;
  };
}

function formatParts(parts: Intl.DateTimeFormatPart[]): string {
  const field: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const part of parts) field[part.type] = part.value;
  const year = (field.year ?? "").padStart(4, "0");
  return `${year}-${field.month}-${field.day} ${field.hour}:${field.minute}:${field.second}`;
}
