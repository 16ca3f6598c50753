import { Subscription, type SchedulerAction, type SchedulerLike } from 'rxjs';

/**
 * The scheduler training runs on by default: work runs in a `setImmediate` callback, after the event
 * loop has handled I/O and timers (a signal, a progress line, a store commit, another run's step), but
 * without the 1 ms that a `setTimeout(0)` costs per step. RxJS has schedulers for microtasks (too eager:
 * they never let I/O in) and for timers (too slow), not for this. `now()` is milliseconds since the Unix
 * epoch with sub-millisecond resolution, the clock a run's times are measured with.
 */
class ImmediateAction<T> extends Subscription implements SchedulerAction<T> {
  private handle: ReturnType<typeof setImmediate> | ReturnType<typeof setTimeout> | undefined;
  private timer = false;

  constructor(private readonly work: (this: SchedulerAction<T>, state?: T) => void) {
    super(() => this.clear());
  }

  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    this.clear();
    const run = (): void => {
      this.handle = undefined;
      if (!this.closed) this.work.call(this, state);
    };
    this.timer = delay > 0;
    this.handle = this.timer ? setTimeout(run, delay) : setImmediate(run);
    return this;
  }

  private clear(): void {
    if (this.handle === undefined) return;
    if (this.timer) clearTimeout(this.handle as ReturnType<typeof setTimeout>);
    else clearImmediate(this.handle as ReturnType<typeof setImmediate>);
    this.handle = undefined;
  }
}

export const immediateScheduler: SchedulerLike = {
  now: () => performance.timeOrigin + performance.now(),
  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    return new ImmediateAction<T>(work).schedule(state, delay);
  },
};
