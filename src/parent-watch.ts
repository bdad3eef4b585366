/**
 * Calls `onGone` once when the process that started this one exits (its parent id changes as
 * the process is adopted). `npm start` hands SIGTERM and SIGINT on to topicdesk; this covers a
 * launcher that dies without passing anything on (killed with SIGKILL, say), so topicdesk does
 * not live on holding the port. A process started by init or a container runtime (parent 0 or
 * 1) is left alone. Returns a function that stops watching.
 */
export function watchParent(onGone: () => void, intervalMs = 500): () => void {
  const parent = process.ppid;
  if (parent <= 1) return () => undefined;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onGone();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
