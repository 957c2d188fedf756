/**
 * Everything the local provider keeps between commands lives under one directory
 * (`local.dataDir`, `.berth/` by default) so that `verify` in a new process sees what
 * `migrate` did, and `rm -rf .berth` is a complete local teardown.
 */
import path from 'node:path';

export interface StatePaths {
  root: string;
  pgdata: string;
  pgLog: string;
  secret: string;
  serverState: string;
  startLock: string;
  logs: string;
  tasks: string;
  runs: string;
  /** Listing commands' output recorded per image digest (listing-cache.ts). */
  listings: string;
  outputsEnv: string;
  outputsJson: string;
}

export function statePaths(root: string): StatePaths {
  return {
    root,
    pgdata: path.join(root, 'postgres', 'data'),
    pgLog: path.join(root, 'postgres', 'server.log'),
    secret: path.join(root, 'secret.json'),
    serverState: path.join(root, 'postgres', 'server.json'),
    startLock: path.join(root, 'postgres', 'start.lock'),
    logs: path.join(root, 'logs'),
    tasks: path.join(root, 'tasks'),
    runs: path.join(root, 'runs'),
    listings: path.join(root, 'listings'),
    outputsEnv: path.join(root, 'outputs.env'),
    outputsJson: path.join(root, 'outputs.json'),
  };
}
