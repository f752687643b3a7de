/**
 * The jobs of one run waiting for a worker: the queue in job order, jobs back from a dropped connection go to the
 * front, 4xx retries go to the back after their pause. A worker asking for a job waits while jobs are still out
 * (in a worker or in a retry pause), since those may come back.
 */
export class JobQueue {
	private readonly order: number[];
	private head = 0;
	/** Jobs in a retry pause. */
	private delayed = 0;
	/** Jobs taken by a worker and not yet released. */
	private inFlight = 0;
	private waiters: Array<() => void> = [];

	constructor(
		count: number,
		private readonly signal: AbortSignal | undefined,
	) {
		this.order = Array.from({ length: count }, (_, i) => i);
	}

	/** Lets every waiting worker look again (a job came back, or the run is halting). */
	wake(): void {
		const w = this.waiters;
		this.waiters = [];
		for (const fn of w) fn();
	}

	/** The next job to send, or null when every job has a final result (or will get one from another worker). */
	async take(): Promise<number | null> {
		for (;;) {
			if (this.head < this.order.length) {
				this.inFlight++;
				return this.order[this.head++];
			}
			if (this.delayed === 0 && this.inFlight === 0) {
				this.wake();
				return null;
			}
			await new Promise<void>((resolve) => this.waiters.push(resolve));
		}
	}

	/** The worker is done with its job (it has a result, or was put back). */
	release(): void {
		this.inFlight--;
		this.wake();
	}

	/** Next in line: the job never reached the server, so it keeps its place ahead of later jobs. */
	requeueFront(i: number): void {
		if (this.head > 0) this.order[--this.head] = i;
		else this.order.unshift(i);
	}

	/** Back in the queue after `ms`, or at once when the run is cancelled (so it ends without the wait). */
	retryLater(i: number, ms: number): void {
		this.delayed++;
		const signal = this.signal;
		const fire = () => {
			clearTimeout(timer);
			this.delayed--;
			this.order.push(i);
			this.wake();
		};
		const timer = setTimeout(() => {
			signal?.removeEventListener('abort', fire);
			fire();
		}, ms);
		signal?.addEventListener('abort', fire, { once: true });
	}
}
