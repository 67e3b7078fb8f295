// DOM and formatting helpers shared by the fleet and device pages.

export function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`page is missing #${id}`);
  return found as T;
}

/** A table row of text cells (textContent: data never becomes markup). */
export function row(cells: string[]): HTMLTableRowElement {
  const tr = document.createElement("tr");
  for (const text of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.append(td);
  }
  return tr;
}

/** A datetime-local input's value for an instant, in the browser's zone. */
export function toLocalInput(ms: number): string {
  const date = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return date.toISOString().slice(0, 16);
}

export function formatTime(iso: string): string {
  return new Date(iso).toLocaleString();
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
