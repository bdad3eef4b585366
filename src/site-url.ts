import type { Config } from './config';

/** http://HOST:port as a browser on this machine reaches it: localhost when HOST means every address. */
export function listeningUrl(host: string, port: number): string {
  const name =
    host === '0.0.0.0' || host === '::' || host === '[::]' ? 'localhost' : host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${name}:${port}`;
}

/**
 * The "up" log line: `topicdesk is up at <url>`, the address to open once topicdesk listens on
 * `port` (PORT=0 picks one). That is PUBLIC_URL when it was set, followed by where topicdesk
 * listens when that differs.
 */
export function upMessage(config: Pick<Config, 'host' | 'port' | 'publicUrl'>, port: number): { message: string; url: string } {
  const listening = listeningUrl(config.host, port);
  // Unset PUBLIC_URL defaults to http://localhost:$PORT (src/config.ts).
  const url = config.publicUrl !== `http://localhost:${config.port}` ? config.publicUrl : listening;
  return { message: url === listening ? `topicdesk is up at ${url}` : `topicdesk is up at ${url} (listening on ${listening})`, url };
}
