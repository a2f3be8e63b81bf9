// The overview's figures pooled ahead of its first visitor: after a round has measured something,
// what the overview of a user without a region scope asks — today's figures, the region tree of
// today and the last TREND_DAYS days by day — is pooled into the cache, so the first page after a
// start (or after today was measured again) does not wait for a month of a city to be pooled.
import type { Kysely } from 'kysely';
import type { CentralTables } from '../store/schema';
import { EVERYWHERE } from '../ledger/scope';
import type { FiguresCache } from './cache';
import { addDays, dayOf } from './days';
import { figuresFor, regionTree, type FigureConfig } from './query';
import { TREND_DAYS } from './trend';

export async function warmOverview(db: Kysely<CentralTables>, config: FigureConfig, cache: FiguresCache, now: number): Promise<void> {
  const today = dayOf(now, config.timezone);
  const everywhere = { scope: EVERYWHERE };
  await figuresFor(db, { from: today, to: today, groupBy: 'none', ...everywhere }, config, cache);
  await regionTree(db, { from: today, to: today, ...everywhere }, config, cache);
  await figuresFor(db, { from: addDays(today, -(TREND_DAYS - 1)), to: today, groupBy: 'day', ...everywhere }, config, cache);
}
