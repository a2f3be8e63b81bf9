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
        // The live view page may fail to listen (port taken): stop everything and say why.
        const failed = agent.ready.then(
          () => new Promise<never>(() => undefined),
          (err: unknown) => err as Error,
        );
        const outcome = await Promise.race([stopRequested, failed]);
        if (outcome instanceof Error) {
          giveUp.abort();
          await agent.stop('start-up failed');
          ctx.close();
          throw outcome;
        }
        await agent.stop(outcome);
        ctx.close();
        logger.info('agent stopped');
        return 0;
      }),
    );
}
