import fs from 'node:fs';
import inspector from 'node:inspector';
import path from 'node:path';

/**
 * Preloaded into a server the bench starts when BENCH_PROFILE_DIR is set
 * (`NODE_OPTIONS=--require dist/bench/cpu-profile.js`; Node refuses --cpu-prof there): samples the
 * main thread every 500 µs from start to exit and writes `server-<pid>.cpuprofile` into that folder,
 * readable by Chrome's DevTools or `node dist/bench/profile-summary.js <file>`.
 */
const dir = process.env.BENCH_PROFILE_DIR;
if (dir) {
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable', () =>
    session.post('Profiler.setSamplingInterval', { interval: 500 }, () => session.post('Profiler.start')),
  );
  process.on('exit', () => {
    // An in-process session answers synchronously, so the file is written before the process ends.
    session.post('Profiler.stop', (error, result) => {
      if (!error) fs.writeFileSync(path.join(dir, `server-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
