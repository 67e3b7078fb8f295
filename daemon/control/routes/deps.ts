import type { OverrideContext } from "../overrides.js";
import type { StatusReport, SyncReport } from "../status.js";

/** What the control routes need of the running daemon (daemon.ts provides it). */
export interface ControlDeps {
  status(): StatusReport;
  overrides(): OverrideContext;
  /** Recomputes the rules from the config and the stored overrides and hands them to the engine. */
  applyRules(): void;
  /** null without a [sync] section. */
  syncStatus(): SyncReport | null;
  /** Starts an upload cycle now (or joins the running one); resolves when it ends. null without [sync]. */
  syncNow(): Promise<void> | null;
}
