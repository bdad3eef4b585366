/** Timers that shutdown can cut short: every pending sleep resolves at once when woken. */
export class Sleeps {
  private readonly pending = new Map<NodeJS.Timeout, () => void>();

  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(timer);
        resolve();
      }, ms);
      this.pending.set(timer, resolve);
    });
  }

  /** Ends every pending sleep now. */
  wakeAll(): void {
    for (const [timer, wake] of this.pending) {
      clearTimeout(timer);
      wake();
    }
    this.pending.clear();
  }
}
