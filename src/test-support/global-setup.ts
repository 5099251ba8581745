/** node:test global setup: one PostgreSQL cluster for the whole run unless TEST_DATABASE_URL is given. */
import { startCluster, type Cluster } from './postgres.ts';

let cluster: Cluster | undefined;

export async function globalSetup() {
  if (process.env.TEST_DATABASE_URL) return;
  cluster = await startCluster();
  process.env.TEST_DATABASE_URL = cluster.url;
}

export async function globalTeardown() {
  cluster?.stop();
}
