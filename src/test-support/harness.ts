/**
 * Starts the toolkit in-process on a chosen database (a fresh SQLite file, or a fresh database on the test
 * PostgreSQL) and talks to it with Fastify's inject: no sockets, no ports.
 */
import { injectFetch } from '../web/inject-fetch.ts';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig, type Config } from '../config/index.ts';
import { buildApp, type App } from '../web/app.ts';
import { openDatabase, type Database } from '../storage/index.ts';

export type Dialect = 'sqlite' | 'postgres';
export const DIALECTS: Dialect[] = ['sqlite', 'postgres'];
export const PUBLIC_URL = 'http://localhost:3000';

/** A new, empty database (SQLite file or PostgreSQL database) and how to drop it. */
export async function freshDatabaseUrl(dialect: Dialect): Promise<{ url: string; drop(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolkit-test-'));
    return { url: `sqlite:${path.join(dir, 'toolkit.db')}`, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  const admin = process.env.TEST_DATABASE_URL;
  if (!admin) throw new Error('TEST_DATABASE_URL is not set: run the tests with npm test (its global setup starts PostgreSQL)');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`create database ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    async drop() {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** A fresh, migrated database on its own (storage tests), dropped on close. */
export async function openTestDatabase(dialect: Dialect): Promise<Database & { close(): Promise<void> }> {
  const fresh = await freshDatabaseUrl(dialect);
  const database = await openDatabase(loadConfig({ DATABASE_URL: fresh.url }).database);
  return { ...database, async close() { await database.close(); await fresh.drop(); } };
}

export interface TestApp extends App {
  config: Config;
  fetch: typeof fetch;
  stop(): Promise<void>;
  /** Set when the app listens on a real port (startListeningApp). */
  origin?: string;
}

export async function startTestApp(dialect: Dialect, env: Record<string, string> = {}): Promise<TestApp> {
  const db = await freshDatabaseUrl(dialect);
  const app = await bootTestApp({ DATABASE_URL: db.url, ...env });
  return Object.assign(app, {
    async stop() {
      await app.close();
      await db.drop();
    },
  });
}

/** Boots the app on a given database (kept on stop), e.g. to restart on the same data. */
export async function bootTestApp(env: Record<string, string>): Promise<TestApp> {
  const config = loadConfig({ PUBLIC_URL: PUBLIC_URL, LOG_LEVEL: 'silent', ...env });
  const app = await buildApp(config);
  await app.fastify.ready();
  return Object.assign(app, { config, fetch: injectFetch(app.fastify), stop: () => app.close() });
}

/** The app on a real loopback port (for Chromium and for relying parties that use their own HTTP client). */
export async function startListeningApp(dialect: Dialect): Promise<TestApp & { origin: string }> {
  const { freePort } = await import('./ports.ts');
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const app = await startTestApp(dialect, { PUBLIC_URL: origin, PORT: String(port) });
  await app.fastify.listen({ port, host: '127.0.0.1' });
  return Object.assign(app, { origin });
}
