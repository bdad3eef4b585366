import fs from 'node:fs';

/** What the bench reads of a process from /proc (Linux): CPU time, memory, and processes by command line. */

/** CPU seconds (user + system) a process has used so far (0 when unreadable). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ": state, ppid, …; utime and stime are fields 14 and 15, in clock ticks (100 a second on Linux).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** KiB figures of /proc/<pid>/status: VmRSS now, VmHWM the peak so far. */
export function memoryOf(pid: number): { rssKb: number; peakKb: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKb: field('VmRSS'), peakKb: field('VmHWM') };
}

/** Process ids whose command line (arguments joined by spaces) passes `test`. */
export function processesMatching(test: (commandLine: string) => boolean): number[] {
  const pids: number[] = [];
  if (!fs.existsSync('/proc')) return pids;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (test(fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim())) pids.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}
