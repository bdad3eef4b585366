/**
 * `npm run demo`: topicdesk with an emulated Telegram and the staff view, to try
 * both sides in a browser (docs/demo.md). Prints the two URLs to open; Ctrl-C or
 * SIGTERM stops everything. Configuration mistakes: one line, exit code 2.
 */
import { ConfigError } from '../config';
import { DemoConfigError, loadDemoConfig, type DemoConfig } from './demo-config';
import { startDemo, type RunningDemo } from './start-demo';

const SHUTDOWN_TIMEOUT_MS = 10_000;

function fail(line: string, code: number): never {
  process.stderr.write(`topicdesk demo: ${line}\n`);
  process.exit(code);
}

/** A start-up failure the person can fix by choosing another setting: one line naming it, exit 2. */
function explainListenError(error: unknown, config: DemoConfig): string | null {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  if (code === 'EADDRINUSE') {
    return `DEMO_PORT: port ${config.port} is already in use; choose a free one, e.g. DEMO_PORT=${config.port + 100} npm run demo`;
  }
  if (code === 'EACCES') return `DEMO_PORT: not allowed to listen on port ${config.port}; choose one above 1023`;
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return `DEMO_HOST: cannot listen on ${config.host} (no such address on this machine)`;
  }
  return null;
}

/** The demo's name for a topicdesk variable the demo sets itself. */
const DEMO_VARIABLE: Record<string, string> = { PORT: 'DEMO_PORT', HOST: 'DEMO_HOST', DATA_DIR: 'DEMO_DATA_DIR' };

/** topicdesk's own start-up error (one variable, one line), said with the demo's variable. */
function explainStartupError(error: unknown): string | null {
  if (!(error instanceof Error) || error.name !== 'StartupError' || !('variable' in error) || !('detail' in error)) return null;
  const variable = String(error.variable);
  const demoVariable = DEMO_VARIABLE[variable] ?? variable;
  return `${demoVariable}: ${String(error.detail).replace(new RegExp(`\\b${variable}\\b`, 'g'), demoVariable)}`;
}

function banner(demo: RunningDemo, config: DemoConfig): string {
  const reach = config.loopbackOnly
    ? 'Only this machine can reach them: the staff view has no sign-in.'
    : `WARNING: listening on ${config.host}: anyone who can reach this machine can use the staff view, which has no sign-in.`;
  return [
    '',
    'topicdesk demo: Telegram is emulated on this machine (no bot token, no account, nothing leaves it).',
    '',
    `  Visitor page:  ${demo.visitorUrl}`,
    `  Staff view:    ${demo.staffViewUrl}   (you are ${demo.staffName} in the "${demo.groupTitle}" group)`,
    '',
    'Open both side by side: write as a visitor, answer as staff. Try /help in the staff view.',
    reach,
    `Data: ${config.dataDir} (emptied on every start). Ctrl-C stops.`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  let config: DemoConfig;
  try {
    config = loadDemoConfig(process.env);
  } catch (error) {
    if (error instanceof DemoConfigError) fail(`configuration error: ${error.problems.join('; ')}`, 2);
    throw error;
  }

  let demo: RunningDemo;
  try {
    demo = await startDemo(config);
  } catch (error) {
    if (error instanceof DemoConfigError || error instanceof ConfigError) fail(`configuration error: ${error.problems.join('; ')}`, 2);
    const listen = explainListenError(error, config) ?? explainStartupError(error);
    if (listen !== null) fail(listen, 2);
    fail(`could not start: ${error instanceof Error ? error.message : String(error)}`, 1);
  }
  process.stdout.write(`${banner(demo, config)}\n`);

  // Ctrl-C under `npm run demo` delivers SIGINT twice at once (from the terminal and forwarded by
  // npm): a second signal within a second is that same Ctrl-C; a later one means "stop now".
  let stoppingSince: number | null = null;
  const shutdown = () => {
    if (stoppingSince !== null) {
      if (Date.now() - stoppingSince < 1000) return;
      process.stderr.write('topicdesk demo: stopping at once\n');
      process.exit(1);
    }
    stoppingSince = Date.now();
    process.stdout.write('topicdesk demo: stopping…\n');
    setTimeout(() => fail('stopping took too long; exiting', 1), SHUTDOWN_TIMEOUT_MS).unref();
    demo.stop().then(
      () => {
        process.stdout.write('topicdesk demo: stopped\n');
        process.exit(0);
      },
      (error: unknown) => fail(`stopping failed: ${error instanceof Error ? error.message : String(error)}`, 1),
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

void main();
