// The deadlines of one call, as one AbortSignal: the call's total time (call_timeout_ms, retries and
// streaming included), progress (progress_timeout_ms without new content once the response has
// started: keep-alive comments and empty events do not count), and the client hanging up. Whoever
// aborts first sets the reason the rest of the pipeline reports.

export type StopReason = 'deadline' | 'no_progress' | 'client_gone';

/** The reason carried by the signal when a deadline fires. */
export class DeadlineExceeded extends Error {
  constructor(
    readonly reason: 'deadline' | 'no_progress',
    message: string,
  ) {
    super(message);
  }
}

export class CallDeadline {
  private readonly ac = new AbortController();
  private readonly total: NodeJS.Timeout;
  private progressTimer: NodeJS.Timeout | null = null;
  stopped: StopReason | null = null;

  constructor(
    private readonly totalMs: number,
    private readonly progressMs: number,
  ) {
    this.total = setTimeout(() => this.stop('deadline', new DeadlineExceeded('deadline', `upstream call exceeded the gateway's ${totalMs} ms deadline`)), totalMs);
    this.total.unref();
  }

  get signal(): AbortSignal {
    return this.ac.signal;
  }

  /** Arm (or re-arm) the no-progress deadline: call when the response starts and at each content delta. */
  progress(): void {
    if (this.stopped) return;
    if (this.progressTimer) this.progressTimer.refresh();
    else {
      this.progressTimer = setTimeout(() => this.stop('no_progress', new DeadlineExceeded('no_progress', `upstream sent no content for ${this.progressMs} ms`)), this.progressMs);
      this.progressTimer.unref();
    }
  }

  clientGone(): void {
    this.stop('client_gone', new Error('client closed the connection'));
  }

  private stop(reason: StopReason, err: Error): void {
    if (this.stopped) return;
    this.stopped = reason;
    this.dispose();
    this.ac.abort(err);
  }

  /** The message of the deadline that fired, or null. */
  get message(): string | null {
    const r: unknown = this.ac.signal.reason;
    return r instanceof DeadlineExceeded ? r.message : null;
  }

  dispose(): void {
    clearTimeout(this.total);
    if (this.progressTimer) clearTimeout(this.progressTimer);
  }

  get totalLimitMs(): number {
    return this.totalMs;
  }
}
