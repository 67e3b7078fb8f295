import type { CsvRow } from "../store/types.js";
import type { StreamBody } from "./exchange.js";

export const CSV_HEADER = "id,device,group,sensor,gas,value,unit,ts,flags\n";

/** The header, then one chunk of lines per page the store yields. */
export async function* csvLines(pages: AsyncIterable<CsvRow[]>): StreamBody {
  yield CSV_HEADER;
  for await (const rows of pages) {
    let chunk = "";
    for (const row of rows) chunk += csvLine(row);
    yield chunk;
  }
}

function csvLine(row: CsvRow): string {
  return `${[
    row.id,
    row.device,
    row.group,
    row.sensor,
    row.gas,
    String(row.value),
    row.unit,
    new Date(row.ts).toISOString(),
    row.flags.replaceAll(",", ";"),
  ]
    .map(csvField)
    .join(",")}\n`;
}

/** RFC 4180: quote a field holding a comma, quote or line break; double its quotes. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
