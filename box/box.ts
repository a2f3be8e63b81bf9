// The all-in-one box: one process runs an embedded MQTT broker, the central service and the site
// agent(s) that report to it, so a township with one box (or a first look) needs one command.
// The agent and the central still meet only through the broker and the contract, exactly as on
// separate machines. Parts start broker → central → agents and stop in the reverse order: the
// agents say goodbye to the broker, the central writes what it had queued, the broker goes last.
import type { Database } from 'better-sqlite3';
import { startAgent, type AgentDeps, type RunningAgent } from '../agent/agent';
import type { AgentConfig } from '../agent/config/schema';
import type { CentralConfig } from '../central/config/schema';
import { startCentral, type RunningCentral } from '../central/central';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/log';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker';

export interface BoxSite {
  config: AgentConfig;
  db: Database;
  deps?: Partial<Omit<AgentDeps, 'config' | 'db' | 'logger'>>;
}

export interface BoxDeps {
  /** Where the embedded broker listens; undefined: an outside broker is in both configs already. */
  broker?: { host: string; port: number };
  central: CentralConfig;
  sites: BoxSite[];
  logger: Logger;
  clock?: Clock;
}

export interface RunningBox {
  broker: EmbeddedBroker | undefined;
  central: RunningCentral;
  agents: RunningAgent[];
  stop(reason: string): Promise<void>;
}

/** What the agent and the central need to use the embedded broker: its URL and MQTT 3.1.1. */
function throughEmbeddedBroker<T extends { broker: { urls: string[]; protocolVersion: 4 | 5 } }>(config: T, url: string): T {
  return { ...config, broker: { ...config.broker, urls: [url], protocolVersion: 4 } };
}

export async function startBox(deps: BoxDeps): Promise<RunningBox> {
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop();
  };
  try {
    const broker = deps.broker ? await startEmbeddedBroker(deps.broker) : undefined;
    if (broker) {
      stops.push(() => broker.stop());
      deps.logger.info({ url: broker.url }, 'box: embedded broker listening');
    }

    // One instance on its own broker: no shared subscription (aedes has none) and nothing to split.
    const onEmbedded = broker ? throughEmbeddedBroker(deps.central, broker.url) : undefined;
    const centralConfig = onEmbedded ? { ...onEmbedded, broker: { ...onEmbedded.broker, shareGroup: '' } } : deps.central;
    const central = await startCentral({ config: centralConfig, logger: deps.logger.child({ part: 'central' }), ...(deps.clock ? { clock: deps.clock } : {}) });
    stops.push(() => central.stop());

    const agents: RunningAgent[] = [];
    for (const site of deps.sites) {
      const config = broker ? throughEmbeddedBroker(site.config, broker.url) : site.config;
      const agent = startAgent({
        ...site.deps,
        config,
        db: site.db,
        logger: deps.logger.child({ part: 'agent', siteId: config.site.id }),
        ...(deps.clock ? { clock: deps.clock } : {}),
      });
      agents.push(agent);
      stops.push(() => agent.stop('box stopping'));
    }
    return { broker, central, agents, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
