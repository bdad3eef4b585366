/**
 * Jest runs each test file in its own realm (its own `Error`, its own module registry), but a native addon is loaded
 * once per process and shared by every file a worker runs. better-sqlite3 gives its addon the error class to throw
 * (`SqliteError`, which extends the realm's `Error`) only the first time a connection is opened, so in every later
 * file of the worker SQLite's errors would come from the first file's realm: not `instanceof Error` there, and not
 * errors to `expect(...).toThrow()`. Before each file, the addon is told to take the error class again, from the
 * connection this file opens first. (A process running topicdesk has one realm: nothing there needs this.)
 */
import path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const addon = require(path.join(path.dirname(require.resolve('better-sqlite3/package.json')), 'build/Release/better_sqlite3.node')) as {
  isInitialized?: boolean;
};
addon.isInitialized = false;
