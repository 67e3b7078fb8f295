// DOM and formatting helpers shared by the fleet and device pages.

export function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`page is missing #${id}`);
  return found as T;
}

/** A table cell: its text, and the whole text or full time shown on hover when the cell shortens it. */
export interface Cell {
  text: string;
  title?: string;
  className?: string;
}

/** A table row (textContent: data never becomes markup). */
export function row(cells: Array<string | Cell>): HTMLTableRowElement {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement("td");
    const { text, title, className } = typeof cell === "string" ? { text: cell } : cell;
    td.textContent = text;
    if (title !== undefined) td.title = title;
    if (className !== undefined) td.className = className;
    tr.append(td);
  }
  return tr;
}

/**
 * A name (device, group, sensor): names can be any length (older data holds
 * ids no config would accept now), so the cell cuts it with an ellipsis
 * (CSS `td.name`) and the title gives it whole. Never widens the table.
 */
export function nameCell(text: string): Cell {
  return { text, title: text, className: "name" };
}

/** A time as short as it can be read (the time alone today), the full date and time on hover. */
export function timeCell(iso: string, nowMs = Date.now()): Cell {
  return { text: formatShortTime(iso, nowMs), title: formatTime(iso) };
}

/**
 * Fills `cell` with `text`, letting it wrap after each ":" or "/" (a <wbr>):
 * a rule id like "co>=35ppm:warning" then breaks between its parts in a
 * narrow column, not inside a word. The text itself is unchanged.
 */
export function breakAfterSeparators(cell: HTMLElement, text: string): void {
  cell.replaceChildren();
  for (const part of text.split(/(?<=[:/])/)) {
    if (cell.childNodes.length > 0) cell.append(document.createElement("wbr"));
    cell.append(part);
  }
}

/** A row saying a table is empty, across all its columns. */
export function emptyRow(text: string, columns: number): HTMLTableRowElement {
  const tr = document.createElement("tr");
  const td = document.createElement("td");
  td.colSpan = columns;
  td.className = "none";
  td.textContent = text;
  tr.append(td);
  return tr;
}

/** The width a box gives its content (its padding removed): what a chart may draw in. */
export function contentWidth(box: HTMLElement): number {
  const style = getComputedStyle(box);
  return Math.floor(
    box.clientWidth - Number.parseFloat(style.paddingLeft) - Number.parseFloat(style.paddingRight),
  );
}

/**
 * A box in the charts' place saying why there is nothing to draw and what
 * to do next: a heading, paragraphs, and optional code lines to copy.
 */
export function notice(
  heading: string,
  parts: Array<string | { code: string } | HTMLElement>,
): HTMLElement {
  const box = document.createElement("section");
  box.className = "empty";
  const title = document.createElement("h2");
  title.textContent = heading;
  box.append(title);
  for (const part of parts) {
    if (part instanceof HTMLElement) box.append(part);
    else if (typeof part === "string") {
      const paragraph = document.createElement("p");
      paragraph.textContent = part;
      box.append(paragraph);
    } else {
      const code = document.createElement("pre");
      code.textContent = part.code;
      box.append(code);
    }
  }
  return box;
}

/** A button that runs `action` (for "show the last 24 h" in an empty state). */
export function actionButton(label: string, action: () => void): HTMLButtonElement {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.addEventListener("click", action);
  return button;
}

/** A datetime-local input's value for an instant, in the browser's zone. */
export function toLocalInput(ms: number): string {
  const date = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return date.toISOString().slice(0, 16);
}

export function formatTime(iso: string): string {
  return new Date(iso).toLocaleString();
}

/** "5:15:38 PM" today, "Dec 3, 05:15 PM" another day: a side table's column stays narrow. */
export function formatShortTime(iso: string, nowMs = Date.now()): string {
  const date = new Date(iso);
  if (date.toDateString() === new Date(nowMs).toDateString()) return date.toLocaleTimeString();
  return date.toLocaleString(undefined, {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

export function formatAge(ms: number): string {
  return `${formatDuration(Math.max(0, Date.now() - ms))} ago`;
}

export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}

export function formatSpan(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/**
 * The time range picker both pages have: a button per preset in #ranges and
 * a custom from/to in the #filters form. A choice goes to `choose` as URL
 * state changes; `mark` shows the range in force.
 */
export class RangePicker {
  private readonly buttons = element<HTMLElement>("ranges");
  private readonly fromInput = element<HTMLInputElement>("from");
  private readonly toInput = element<HTMLInputElement>("to");

  constructor(
    presets: readonly string[],
    status: HTMLElement,
    choose: (changes: Record<string, string | null>) => void,
  ) {
    for (const preset of presets) {
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.range = preset;
      button.textContent = preset;
      this.buttons.append(button);
    }
    this.buttons.addEventListener("click", (event) => {
      const target = event.target;
      if (target instanceof HTMLButtonElement && target.dataset.range !== undefined) {
        choose({ range: target.dataset.range, from: null, to: null });
      }
    });
    element<HTMLFormElement>("filters").addEventListener("submit", (event) => {
      event.preventDefault();
      const fromMs = Date.parse(this.fromInput.value);
      const toMs = Date.parse(this.toInput.value);
      if (Number.isFinite(fromMs) && Number.isFinite(toMs) && toMs > fromMs) {
        choose({ range: "custom", from: String(fromMs), to: String(toMs) });
      } else {
        status.textContent = "custom range: 'from' must be before 'to'";
      }
    });
  }

  /** Presses the button of `range` (none for custom) and shows the span in the inputs. */
  mark(range: string, fromMs: number, toMs: number): void {
    for (const button of this.buttons.querySelectorAll<HTMLButtonElement>("button[data-range]")) {
      button.setAttribute("aria-pressed", String(button.dataset.range === range));
    }
    this.fromInput.value = toLocalInput(fromMs);
    this.toInput.value = toLocalInput(toMs);
  }
}
