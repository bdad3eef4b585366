import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** topicdesk as an operator runs it: dist/src/main.js in its own process. Resolves once it listens. */
export async function startServerProcess(env: Record<string, string>): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const main = path.resolve(__dirname, '..', 'src', 'main.js');
  const child = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr!.on('data', (c) => (out += c));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 15000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c;
      for (const line of out.split('\n')) {
        if (!line.includes('topicdesk is up')) continue;
        clearTimeout(timer);
        resolve(JSON.parse(line).port);
        return;
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
