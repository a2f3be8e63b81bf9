// camgate run: the agent process. Runs until SIGINT/SIGTERM, then closes cleanly.
import { setFlagsFromString } from 'node:v8';
import type { Command } from 'commander';
import { startAgent } from '../../agent';
import type { Wrap } from '../action';

/**
 * The agent runs for months on a small box: V8 is asked to keep its old generation close to what is
 * live (it grows it 2 MB past the live heap instead of 8 MB; ~4 MB less RSS on bench:health, CPU
 * within its budget). Set here rather than on the launcher's line, because there it would also
 * slow `camgate discover`, whose thousands of parsed SOAP answers then trigger a full GC far more
 * often (devices timed out on a loaded box). V8 reads this flag whenever it sizes the heap.
 */
function keepHeapSmall(): void {
  setFlagsFromString('--optimize-for-size');
}

export function registerRun(program: Command, wrap: Wrap): void {
  program
    .command('run')
    .description('run the site agent until stopped (SIGINT/SIGTERM); site.id defaults to the host name')
    .action(
      wrap(async (ctx) => {
        ctx.siteId();
        keepHeapSmall();
        const logger = ctx.logger.child({ siteId: ctx.config.site.id });
        // Handlers first: a SIGTERM right after "agent started" must still stop cleanly.
        const giveUp = new AbortController();
        const stopRequested = ctx.io.waitForStop(giveUp.signal);
        let agent: ReturnType<typeof startAgent>;
        try {
          agent = startAgent({ config: ctx.config, logger, db: ctx.inventory });
        } catch (err) {
          giveUp.abort();
          throw err;
        }
        const signal = await stopRequested;
        await agent.stop(signal);
        ctx.close();
        logger.info('agent stopped');
        return 0;
      }),
    );
}
