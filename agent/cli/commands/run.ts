// camgate run: the agent process. Runs until SIGINT/SIGTERM, then closes cleanly.
import type { Command } from 'commander';
import { startAgent } from '../../agent';
import type { Wrap } from '../action';

export function registerRun(program: Command, wrap: Wrap): void {
  program
    .command('run')
    .description('run the site agent until stopped (SIGINT/SIGTERM); site.id defaults to the host name')
    .action(
      wrap(async (ctx) => {
        ctx.siteId();
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
