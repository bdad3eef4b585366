/**
 * A start-up failure the operator fixes in the environment: a database that cannot be
 * reached, a DATA_DIR that cannot be written, a port already taken. main.ts prints it as one
 * line naming the variable (`topicdesk: cannot start: PORT: …`) and exits with code 2, as it
 * does for a bad configuration value.
 */
export class StartupError extends Error {
  constructor(
    /** The environment variable to look at. */
    readonly variable: string,
    /** What is wrong and what to do, in one line, without secrets. */
    readonly detail: string,
  ) {
    super(`${variable}: ${detail}`);
    this.name = 'StartupError';
  }
}

interface SystemError extends Error {
  code?: string;
  syscall?: string;
}

/** `host:port` as an operator would type it (IPv6 in brackets). */
export function hostPort(host: string, port: number | string): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * The HTTP server's listen error, said in terms of PORT and HOST when it is theirs
 * (port taken, privileged port, address not on this machine); any other error unchanged.
 */
export function explainListenError(error: unknown, host: string, port: number): unknown {
  const code = (error as SystemError | null)?.code;
  const where = hostPort(host, port);
  switch (code) {
    case 'EADDRINUSE':
      return new StartupError(
        'PORT',
        `port ${port} is already in use on ${host} (another topicdesk, or another program, listens on ${where}): stop it, or set PORT to a free port`,
      );
    case 'EACCES':
      return new StartupError(
        'PORT',
        `port ${port} on ${host} needs privileges this user does not have: set PORT to 1024 or above (and put a reverse proxy on port ${port}), or HOST to another address`,
      );
    case 'EADDRNOTAVAIL':
      return new StartupError(
        'HOST',
        `${host} is not an address of this machine: set HOST to one of its addresses, or 0.0.0.0 for all of them`,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new StartupError('HOST', `the host name ${host} cannot be resolved: set HOST to an address of this machine, or 0.0.0.0`);
    default:
      return error;
  }
}
