// What the central tells its audit log (who commanded which site, who watched which camera). The
// log itself is another part's job: the API takes an `audit` function and calls it once per
// command and per live view start and end.

export interface AuditEntry {
  /** Epoch ms. */
  at: number;
  /** Who asked (the API user's name), null when no user is known (no login, or the central itself: a lease that ran out). */
  actor: string | null;
  action: 'command' | 'live-view-start' | 'live-view-end' | 'alarm-ack';
  site: string;
  camera?: string;
  /** What it was done to when not a command's site or camera, e.g. alarm:<id>. */
  target?: string;
  /** command: the command name; live views: stream-start / stream-stop as sent, when one was. */
  command?: string;
  ok: boolean;
  /** The HTTP status answered (commands and live starts). */
  status?: number;
  detail: Record<string, unknown>;
}

export type Audit = (entry: AuditEntry) => void;

export const noAudit: Audit = () => undefined;
