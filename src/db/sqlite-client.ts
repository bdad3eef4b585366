import type { Knex } from 'knex';
import type { Database as SqliteConnection, Statement } from 'sqlite3';

/**
 * knex's SQLite client with prepared statements kept per connection. knex's own client prepares
 * every query anew through node-sqlite3's `Database#all`/`#run`, which costs three trips to
 * the driver's thread pool (prepare, run, finalize); a statement kept here costs one. The hot
 * paths (an append, the outbox's claim and settle, BEGIN and COMMIT) repeat the same few SQL
 * texts, so nearly every query finds its statement ready. SQLite re-prepares a kept statement
 * by itself after a schema change (migrations).
 *
 * At most STATEMENTS_PER_CONNECTION are kept, the least recently used finalized first (queries
 * with variable IN lists make many texts); a statement whose query fails is finalized and
 * prepared afresh next time; all are finalized before the connection closes.
 */
const STATEMENTS_PER_CONNECTION = 200;

interface KnexQuery {
  sql: string;
  bindings?: unknown[];
  method?: string;
  returning?: unknown;
  response?: unknown;
  context?: unknown;
}

interface KnexSqliteClient {
  _query(connection: SqliteConnection, query: KnexQuery): Promise<KnexQuery>;
  destroyRawConnection(connection: SqliteConnection): Promise<void>;
}

// knex ships its SQLite client as a CommonJS class without type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const BaseClient = require('knex/lib/dialects/sqlite3') as new (config: Knex.Config) => KnexSqliteClient;

const kept = new WeakMap<SqliteConnection, Map<string, Statement>>();

function statementsOf(connection: SqliteConnection): Map<string, Statement> {
  let statements = kept.get(connection);
  if (!statements) kept.set(connection, (statements = new Map<string, Statement>()));
  return statements;
}

const finalize = (statement: Statement) => new Promise<void>((resolve) => statement.finalize(() => resolve()));

/** The kept statement for `sql`, prepared on first use (a preparation error rejects, and nothing is kept). */
async function statementFor(connection: SqliteConnection, sql: string): Promise<Statement> {
  const statements = statementsOf(connection);
  const ready = statements.get(sql);
  if (ready) {
    // Most recently used last: the Map's order is the eviction order.
    statements.delete(sql);
    statements.set(sql, ready);
    return ready;
  }
  const statement = await new Promise<Statement>((resolve, reject) => {
    const prepared: Statement = connection.prepare(sql, (error: Error | null) => (error ? reject(error) : resolve(prepared)));
  });
  statements.set(sql, statement);
  if (statements.size > STATEMENTS_PER_CONNECTION) {
    const [oldestSql, oldest] = statements.entries().next().value as [string, Statement];
    statements.delete(oldestSql);
    void finalize(oldest);
  }
  return statement;
}

class KeptStatementsClient extends BaseClient {
  /** As knex's client (`all` for what returns rows, `run` for the rest, the statement as the context), on a kept statement. */
  override async _query(connection: SqliteConnection, query: KnexQuery): Promise<KnexQuery> {
    if (!query.sql) throw new Error('The query is empty');
    const { method } = query;
    const call =
      method === 'insert' || method === 'update'
        ? query.returning
          ? 'all'
          : 'run'
        : method === 'counter' || method === 'del'
          ? 'run'
          : 'all';
    const statement = await statementFor(connection, query.sql);
    return new Promise<KnexQuery>((resolve, reject) => {
      const done = function (this: Statement, error: Error | null, response?: unknown) {
        if (error) {
          const statements = statementsOf(connection);
          if (statements.get(query.sql) === statement) {
            statements.delete(query.sql);
            void finalize(statement);
          }
          return reject(error);
        }
        query.response = response;
        // knex reads lastID and changes from the statement, as from node-sqlite3's own.
        query.context = this;
        resolve(query);
      };
      if (call === 'run') statement.run(query.bindings ?? [], done);
      else statement.all(query.bindings ?? [], done);
    });
  }

  override async destroyRawConnection(connection: SqliteConnection): Promise<void> {
    const statements = statementsOf(connection);
    await Promise.all([...statements.values()].map(finalize));
    statements.clear();
    return super.destroyRawConnection(connection);
  }
}

/** For knex's `client` option (a Client subclass, which knex's types name as its base class). */
export const KeptStatementsSqliteClient = KeptStatementsClient as unknown as typeof Knex.Client;
