/** Renders rows for a person (aligned table), a spreadsheet (CSV, RFC 4180) or a program (JSON lines). */

export type Row = Record<string, string | number | boolean | null | readonly string[]>;

function cell(value: Row[string]): string {
  if (value === null) return "";
  if (Array.isArray(value)) return value.join(",");
  return String(value);
}

export function table(rows: readonly Row[], columns: readonly string[]): string {
  const widths = columns.map((column) =>
    Math.max(column.length, ...rows.map((row) => cell(row[column] ?? null).length)),
  );
  const line = (values: string[]) =>
    values
      .map((value, index) => value.padEnd(widths[index] ?? 0))
      .join("  ")
      .trimEnd();
  return [
    line(columns.map((column) => column.toUpperCase())),
    ...rows.map((row) => line(columns.map((column) => cell(row[column] ?? null)))),
  ].join("\n");
}

function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csv(rows: readonly Row[], columns: readonly string[]): string {
  return [
    columns.join(","),
    ...rows.map((row) => columns.map((column) => csvField(cell(row[column] ?? null))).join(",")),
  ].join("\n");
}

export function jsonLines(rows: readonly object[]): string {
  return rows.map((row) => JSON.stringify(row)).join("\n");
}
