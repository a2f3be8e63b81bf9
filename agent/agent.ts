// The long-running site agent. For now it opens the inventory and reports that it runs;
// uplink and health monitoring attach here in later issues.
import type { Database } from 'better-sqlite3';
import type { AgentConfig } from './config/types';
import type { Logger } from './log';
import { countCameras } from './inventory/cameras';

export interface AgentDeps {
  config: AgentConfig;
  logger: Logger;
  db: Database;
}

export interface RunningAgent {
  stop(reason: string): Promise<void>;
}

export function startAgent({ config, logger, db }: AgentDeps): RunningAgent {
  const cameras = countCameras(db);
  logger.info({ site: { id: config.site.id, name: config.site.name }, cameras, dataDir: config.dataDir }, 'agent started');
  let stopped = false;
  return {
    async stop(reason: string) {
      if (stopped) return;
      stopped = true;
      logger.info({ reason }, 'agent stopping');
    },
  };
}
