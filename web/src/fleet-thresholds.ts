// The fleet page's Thresholds panel: for the selected group, whether each
// device runs the group's desired set, the set itself in an editor that
// saves with If-Match, and the audit list of its versions.
import { ApiError, getJson, NeedsKeyError, sendJson } from "./api.js";
import { element, emptyRow, formatTime, nameCell, row, timeCell } from "./page.js";

/** A rule as `schemas/fleet-thresholds.ts` takes it: the device's `[[thresholds]]` table in JSON. */
interface Rule {
  gas: string;
  op?: string;
  value: number;
  unit?: string;
  clear?: number;
  for?: string;
  severity?: string;
  sensor?: string;
}

interface ThresholdVersion {
  version: number;
  etag: string;
  thresholds: Rule[];
  changed_at: string;
  changed_by: string | null;
}

interface DeviceStatus {
  device: string;
  state: "in_sync" | "pending" | "refused";
  reason: string | null;
  reported_at: string | null;
}

interface Problem {
  index: number | null;
  key: string;
  message: string;
}

const OPS = [">=", ">", "<=", "<"];
const SEVERITIES = ["warning", "critical"];
const STATE_TEXT = { in_sync: "in sync", pending: "pending", refused: "refused" } as const;
/** The rule table's columns in order; `value` and `clear` are numbers, op and severity choices. */
const FIELDS = ["gas", "op", "value", "unit", "clear", "for", "severity", "sensor"] as const;
type Field = (typeof FIELDS)[number];

/**
 * The panel's state. The editor keeps the version it loaded and the
 * operator's unsaved edits across the page's refreshes: a refresh replaces
 * it only while nothing was edited, so a save still names the version the
 * operator started from and a concurrent change shows as a 412.
 */
export class ThresholdsPanel {
  private readonly note = element<HTMLElement>("thresholds-note");
  private readonly body = element<HTMLElement>("thresholds-body");
  private readonly rules = element<HTMLTableSectionElement>("threshold-rules");
  private readonly setInfo = element<HTMLElement>("threshold-set");
  private readonly newer = element<HTMLElement>("threshold-newer");
  private readonly message = element<HTMLElement>("threshold-message");
  private readonly changedBy = element<HTMLInputElement>("threshold-by");
  private group: string | null = null;
  /** The version the editor shows (null: none loaded; 0: the group has no set yet). */
  private loaded: ThresholdVersion | null = null;
  private edited = false;
  private ticket = 0;

  constructor(private readonly needsKey: (error: NeedsKeyError) => void) {
    element("threshold-add").addEventListener("click", () => {
      this.addRow({ gas: "", value: Number.NaN });
      this.markEdited();
      this.rules.querySelector<HTMLInputElement>("tr:last-child input")?.focus();
    });
    element("threshold-reload").addEventListener("click", () => {
      this.edited = false;
      this.loaded = null;
      this.say("", false);
      void this.refresh(this.group);
    });
    this.rules.addEventListener("input", () => this.markEdited());
    element<HTMLFormElement>("threshold-form").addEventListener("submit", (event) => {
      event.preventDefault();
      void this.save();
    });
  }

  /** Shows `group`'s status, set and history; null (all groups) shows how to pick one. */
  async refresh(group: string | null): Promise<void> {
    const ticket = ++this.ticket;
    if (group !== this.group) {
      this.group = group;
      this.loaded = null;
      this.edited = false;
      this.say("", false);
    }
    this.body.hidden = group === null;
    if (group === null) {
      this.note.textContent = "Choose a group above to see and edit its thresholds.";
      return;
    }
    this.note.textContent = `Group "${group}": the alarm rules its devices get from the fleet.`;
    const params = new URLSearchParams({ group });
    try {
      // The history's first version is the current set: no GET /fleet/thresholds, whose 404
      // for a group never set would be logged by the browser as an error.
      const [status, history] = await Promise.all([
        getJson<{ devices: DeviceStatus[] }>("/fleet/thresholds/status", params),
        getJson<{ versions: ThresholdVersion[] }>("/fleet/thresholds/history", params),
      ]);
      if (ticket !== this.ticket) return;
      this.drawStatus(status.devices);
      this.drawHistory(history.versions);
      const latest = history.versions[0] ?? null;
      if (!this.edited) this.load(latest);
      this.showNewer(latest);
    } catch (error) {
      if (ticket !== this.ticket) return;
      this.note.textContent = `Thresholds could not be loaded: ${
        error instanceof NeedsKeyError
          ? "the API key is needed"
          : error instanceof Error
            ? error.message
            : String(error)
      }`;
    }
  }

  private markEdited(): void {
    this.edited = true;
    this.clearProblems();
  }

  private load(latest: ThresholdVersion | null): void {
    this.loaded = latest ?? {
      version: 0,
      etag: "",
      thresholds: [],
      changed_at: "",
      changed_by: null,
    };
    this.setInfo.textContent =
      latest === null
        ? `No thresholds set for group "${this.group}" yet: its devices run their own config. Add rules and save to set them.`
        : `Version ${latest.version}, changed ${formatTime(latest.changed_at)} by ${byWhom(latest)}: ${latest.thresholds.length} ${latest.thresholds.length === 1 ? "rule" : "rules"}.`;
    this.setInfo.dataset.version = String(this.loaded.version);
    this.rules.replaceChildren();
    for (const rule of this.loaded.thresholds) this.addRow(rule);
  }

  /** Says so while the rules being edited are no longer the current set: saving them would be a 412. */
  private showNewer(latest: ThresholdVersion | null): void {
    const loaded = this.loaded?.version ?? 0;
    const newer = latest !== null && latest.version !== loaded ? latest : null;
    this.newer.hidden = newer === null;
    const since =
      loaded === 0 ? "since you opened this editor" : `since you loaded version ${loaded}`;
    const outcome = `${since}: saving your edits would be refused`;
    this.newer.textContent =
      newer === null
        ? ""
        : `Version ${newer.version} was saved by ${byWhom(newer)} ${outcome}; reload to start from it.`;
  }

  private addRow(rule: Rule): void {
    const tr = document.createElement("tr");
    for (const field of FIELDS) {
      const td = document.createElement("td");
      const input = fieldInput(field, rule);
      input.name = field;
      // A phone shows each rule as a card of labelled fields (dashboard.css), without the header row.
      td.dataset.label = field;
      td.append(input);
      tr.append(td);
    }
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "Remove";
    remove.addEventListener("click", () => {
      tr.remove();
      this.markEdited();
      this.label();
    });
    const td = document.createElement("td");
    td.append(remove);
    tr.append(td);
    tr.className = "rule";
    this.rules.append(tr);
    this.label();
  }

  /** Names each field by its rule's place ("rule 2 unit"), again after a removal moved them. */
  private label(): void {
    for (const [index, tr] of this.ruleRows().entries()) {
      for (const input of tr.querySelectorAll("[name]")) {
        input.setAttribute("aria-label", `rule ${index + 1} ${input.getAttribute("name")}`);
      }
      tr.querySelector("button")?.setAttribute("aria-label", `remove rule ${index + 1}`);
    }
  }

  private ruleRows(): HTMLTableRowElement[] {
    return [...this.rules.querySelectorAll<HTMLTableRowElement>("tr.rule")];
  }

  /** The rules as the table shows them; an empty optional field is left out (the device's default). */
  private shownRules(): Rule[] {
    return this.ruleRows().map((tr) => {
      const value = (field: Field) =>
        tr.querySelector<HTMLInputElement | HTMLSelectElement>(`[name="${field}"]`)?.value.trim() ??
        "";
      // An empty value is sent as null (JSON has no NaN): the ingest names it at its rule.
      const number = value("value") === "" ? Number.NaN : Number(value("value"));
      const rule: Rule = { gas: value("gas"), op: value("op"), value: number };
      if (value("unit") !== "") rule.unit = value("unit");
      if (value("clear") !== "") rule.clear = Number(value("clear"));
      if (value("for") !== "") rule.for = value("for");
      rule.severity = value("severity");
      if (value("sensor") !== "") rule.sensor = value("sensor");
      return rule;
    });
  }

  private async save(): Promise<void> {
    const group = this.group;
    const loaded = this.loaded;
    if (group === null || loaded === null) return;
    this.clearProblems();
    const by = this.changedBy.value.trim();
    const body = { thresholds: this.shownRules(), ...(by === "" ? {} : { changed_by: by }) };
    // Every save names the version edited; a first set may only be created, never replace one.
    const ifMatch: Record<string, string> =
      loaded.version === 0 ? { "if-none-match": "*" } : { "if-match": `"${loaded.etag}"` };
    this.say("saving...", false);
    try {
      const saved = await sendJson<{ version: number }>(
        "PUT",
        "/fleet/thresholds",
        new URLSearchParams({ group }),
        body,
        ifMatch,
      );
      this.edited = false;
      this.loaded = null;
      await this.refresh(group);
      this.say(
        `Saved as version ${saved.version}. The group's devices apply it on their next sync.`,
        false,
      );
    } catch (error) {
      this.showSaveError(error);
    }
  }

  /** The save's outcome below the editor; a refusal in the page's problem style. */
  private say(text: string, problem: boolean): void {
    this.message.textContent = text;
    this.message.classList.toggle("problem", problem);
  }

  private showSaveError(error: unknown): void {
    if (error instanceof NeedsKeyError) {
      this.say(
        error.sent
          ? "Not saved: the ingest refused the API key; enter the right one above and save again."
          : "Not saved: the ingest needs its API key; enter it above and save again.",
        true,
      );
      this.needsKey(error);
    } else if (error instanceof ApiError && error.status === 412) {
      this.say(
        "Not saved: changed by someone else since you loaded it; reload, then redo your change.",
        true,
      );
      // Shows what was saved meanwhile (status, history, the newer version); the edits stay.
      void this.refresh(this.group);
    } else if (error instanceof ApiError && error.status === 422) {
      const problems = problemsOf(error.body);
      const general = problems.filter((problem, at) => !this.showProblem(problem, at));
      const parts = general.map((problem) => `${problem.key}: ${problem.message}`);
      const marked = problems.length - general.length;
      if (marked > 0) {
        parts.push(
          `${marked === 1 ? "1 problem" : `${marked} problems`} marked at the rules above`,
        );
      }
      this.say(`Not saved (nothing was stored): ${parts.join("; ")}.`, true);
    } else {
      this.say(`Not saved: ${error instanceof Error ? error.message : String(error)}`, true);
    }
  }

  /** Marks the rule (and the field) a problem names; false when it names no shown rule. */
  private showProblem(problem: Problem, at: number): boolean {
    const tr = problem.index === null ? undefined : this.ruleRows()[problem.index];
    if (tr === undefined) return false;
    tr.classList.add("invalid");
    const field = /^thresholds\[\d+\]\.(\w+)/.exec(problem.key)?.[1];
    const input = tr.querySelector(`[name="${field}"]`);
    input?.setAttribute("aria-invalid", "true");
    const note = document.createElement("tr");
    note.className = "problem";
    const td = document.createElement("td");
    td.colSpan = FIELDS.length + 1;
    td.id = `threshold-problem-${at}`;
    td.textContent = `${problem.key}: ${problem.message}`;
    note.append(td);
    (input ?? tr.cells[0]?.firstElementChild)?.setAttribute("aria-describedby", td.id);
    tr.after(note);
    return true;
  }

  private clearProblems(): void {
    for (const note of this.rules.querySelectorAll("tr.problem")) note.remove();
    for (const tr of this.rules.querySelectorAll("tr.invalid")) tr.classList.remove("invalid");
    for (const input of this.rules.querySelectorAll("[aria-invalid]")) {
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    }
  }

  private drawStatus(devices: DeviceStatus[]): void {
    const rows = devices.map((device) =>
      row([
        nameCell(device.device),
        { text: STATE_TEXT[device.state], className: device.state },
        device.reason ?? "-",
        device.reported_at === null ? "never" : timeCell(device.reported_at),
      ]),
    );
    if (rows.length === 0) rows.push(emptyRow("no device of this group has uploaded", 4));
    element("threshold-status").replaceChildren(...rows);
  }

  private drawHistory(versions: ThresholdVersion[]): void {
    const rows = versions.map((version) =>
      row([
        String(version.version),
        timeCell(version.changed_at),
        version.changed_by === null ? "-" : nameCell(version.changed_by),
        version.thresholds.length === 0
          ? "no rules (devices run their own config)"
          : version.thresholds.map(ruleText).join("; "),
      ]),
    );
    if (rows.length === 0) rows.push(emptyRow("never changed", 4));
    element("threshold-history").replaceChildren(...rows);
  }
}

function fieldInput(field: Field, rule: Rule): HTMLInputElement | HTMLSelectElement {
  if (field === "op" || field === "severity") {
    const select = document.createElement("select");
    for (const choice of field === "op" ? OPS : SEVERITIES)
      select.append(new Option(choice, choice));
    select.value = rule[field] ?? (field === "op" ? ">=" : "warning");
    return select;
  }
  const input = document.createElement("input");
  const value = rule[field];
  if (field === "value" || field === "clear") {
    input.type = "number";
    input.step = "any";
    input.value = value === undefined || Number.isNaN(value) ? "" : String(value);
  } else {
    input.value = value === undefined ? "" : String(value);
  }
  if (field === "for") input.placeholder = "0s";
  return input;
}

/** "no2 >= 100 ppb, clear 80, for 30s, critical, sensor gas0": a rule in one line. */
function ruleText(rule: Rule): string {
  const parts = [
    `${rule.gas} ${rule.op ?? ">="} ${rule.value}${rule.unit === undefined ? "" : ` ${rule.unit}`}`,
  ];
  if (rule.clear !== undefined) parts.push(`clear ${rule.clear}`);
  if (rule.for !== undefined) parts.push(`for ${rule.for}`);
  parts.push(rule.severity ?? "warning");
  if (rule.sensor !== undefined) parts.push(`sensor ${rule.sensor}`);
  return parts.join(", ");
}

function byWhom(version: ThresholdVersion): string {
  return version.changed_by ?? "(no name given)";
}

function problemsOf(body: unknown): Problem[] {
  if (typeof body !== "object" || body === null || !("problems" in body)) return [];
  return Array.isArray(body.problems) ? (body.problems as Problem[]) : [];
}
