import { createHash } from 'node:crypto';

/** The part of a node-redis client a script needs. */
export interface ScriptClient {
  readonly isReady: boolean;
  sendCommand(args: string[], options?: { timeout?: number }): Promise<unknown>;
}

/**
 * The one way topicdesk runs a Lua script in Redis: by its SHA-1 (EVALSHA), sending the source
 * (EVAL, which caches it) only when Redis does not know it yet. Refused at once while the client
 * is not connected: a disconnected client would queue the command until Redis is back, and
 * nothing that calls a script may wait on that.
 */
export function luaScript(source: string) {
  const sha = createHash('sha1').update(source).digest('hex');
  return async <T = unknown>(client: ScriptClient, keys: string[], args: string[], timeoutMs: number): Promise<T> => {
    if (!client.isReady) throw new Error('Redis is not connected');
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return (await client.sendCommand(['EVALSHA', sha, ...tail], { timeout: timeoutMs })) as T;
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
      return (await client.sendCommand(['EVAL', source, ...tail], { timeout: timeoutMs })) as T;
    }
  };
}
