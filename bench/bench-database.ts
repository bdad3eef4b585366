import knexFactory from 'knex';

/** A fresh database for one bench scenario: SQLite under DATA_DIR, or a new PostgreSQL database. */
export async function createBenchDatabase(
  kind: 'sqlite' | 'postgres',
  adminUrl?: string,
): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  if (kind === 'sqlite') return { env: {}, drop: async () => undefined };
  const name = `topicdesk_bench_${process.pid}_${Date.now()}`;
  const admin = knexFactory({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
  await admin.raw(`create database ${name}`);
  await admin.destroy();
  const url = new URL(adminUrl!);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString() },
    async drop() {
      const a = knexFactory({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
      await a.raw(`drop database if exists ${name} with (force)`);
      await a.destroy();
    },
  };
}
