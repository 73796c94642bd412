/**
 * What the perf script must undo when it fails or is interrupted: the processes it started (ended by PID,
 * never by name) and the steps that stop servers or remove partial files.
 */

/** A step undone on the way out; the newest runs first, like nested `finally` blocks. */
type UndoStep = () => Promise<void> | void;

/** The processes and undo steps of one run of the script. */
export class Cleanup {
  private readonly pids = new Set<number>();
  private readonly steps: UndoStep[] = [];

  /** Records a started process; returns the function that forgets it once it has exited. */
  trackPid(pid: number | undefined): () => void {
    if (pid === undefined) return () => undefined;
    this.pids.add(pid);
    return () => this.pids.delete(pid);
  }

  /** Records an undo step; returns the function that drops it once the thing was undone normally. */
  add(step: UndoStep): () => void {
    this.steps.push(step);
    return () => {
      const index = this.steps.indexOf(step);
      if (index >= 0) this.steps.splice(index, 1);
    };
  }

  /**
   * Sends SIGTERM to every tracked process, then runs the undo steps, newest first. A step that fails is
   * reported on stderr and the others still run.
   */
  async run(): Promise<void> {
    for (const pid of this.pids) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch (error) {
        // ESRCH: it exited between the last check and now, which is what we wanted.
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    }
    this.pids.clear();
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        process.stderr.write(`cleanup: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    }
  }
}
