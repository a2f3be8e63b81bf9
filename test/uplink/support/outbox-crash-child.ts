// Child for the outbox crash test: enqueues {k} from `start` on, in bursts of 1..40 concurrent
// enqueues (so kills land inside group commits too), and prints "k" on its own line only after
// that k's promise resolved. The parent kills it with SIGKILL at random moments.
//   node outbox-crash-child.js FILE START SEED
import { openOutbox } from '../../../agent/uplink/outbox';
import { seededRandom } from '../../../lib/random';

async function main(): Promise<void> {
  const [file, startArg, seedArg] = process.argv.slice(2);
  const rnd = seededRandom(Number(seedArg));
  const outbox = openOutbox({ file, quotaBytes: 1e12, maxBatch: 16 });
  process.stdout.write('ready\n');
  let k = Number(startArg);
  for (;;) {
    const burst = 1 + Math.floor(rnd() * 40);
    const ps: Array<Promise<void>> = [];
    for (let i = 0; i < burst; i++, k++) {
      const mine = k;
      ps.push(
        outbox.enqueue({ topic: `camgate/v1/crash/${mine % 3}`, payload: { k: mine, pad: 'c'.repeat(mine % 200) }, dropClass: mine % 3 }).then(() => {
          process.stdout.write(`${mine}\n`);
        }),
      );
    }
    await Promise.all(ps);
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
