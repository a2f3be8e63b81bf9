// The site's uplink bandwidth budget for relays (video.relay.budgetKbps; 0 = none). Pure.
//
// A relay's expected bitrate: a copy sends what the camera sends — the ledger's bitrate of that
// stream, else video.relay.assumedMainKbps / assumedSubKbps; a transcode sends at most its cap.
// Relays already running count max(expected, measured): a camera that sends more than the ledger
// says uses more of the budget, one that sends less still keeps its reservation (a scene that
// gets busy raises the bitrate again).
import type { RelayPlan, SourceInfo } from './profiles';
import type { AgentConfig } from '../../config/schema';

export type RelayBudgetConfig = Pick<AgentConfig['video']['relay'], 'budgetKbps' | 'assumedMainKbps' | 'assumedSubKbps'>;

/** Expected kbit/s of a relay with this plan. */
export function expectedKbps(plan: Pick<RelayPlan, 'video'>, source: SourceInfo, stream: 'main' | 'sub', config: RelayBudgetConfig): number {
  if (plan.video.codec !== 'copy') return Math.round(plan.video.bitrateKbps);
  if (source.bitrateKbps !== undefined && source.bitrateKbps > 0) return Math.round(source.bitrateKbps);
  return stream === 'main' ? config.assumedMainKbps : config.assumedSubKbps;
}

export interface RelayUsage {
  expectedKbps: number;
  /** Measured output bitrate (supervisor progress), null before the first measurement. */
  measuredKbps: number | null;
}

/** What running relays use of the budget: Σ max(expected, measured). */
export function usedKbps(relays: readonly RelayUsage[]): number {
  let sum = 0;
  for (const r of relays) sum += Math.max(r.expectedKbps, r.measuredKbps ?? 0);
  return Math.round(sum);
}

export type BudgetCheck =
  { ok: true; needKbps: number; usedKbps: number; budgetKbps: number } | { ok: false; needKbps: number; usedKbps: number; budgetKbps: number; message: string };

/** Whether one more relay of `needKbps` fits; budgetKbps 0 = no budget (always ok). */
export function checkBudget(args: { needKbps: number; relays: readonly RelayUsage[]; budgetKbps: number }): BudgetCheck {
  const used = usedKbps(args.relays);
  const need = Math.round(args.needKbps);
  const base = { needKbps: need, usedKbps: used, budgetKbps: args.budgetKbps };
  if (args.budgetKbps <= 0 || used + need <= args.budgetKbps) return { ok: true, ...base };
  return {
    ok: false,
    ...base,
    message:
      `relay refused: it needs ~${need} kbit/s and the relays already use ${used} of the site's budget ` +
      `${args.budgetKbps} kbit/s (video.relay.budgetKbps); stop one (cmd/stream-stop) or raise the budget`,
  };
}
