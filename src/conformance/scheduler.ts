/**
 * Runs started from the web (portal, API) execute in the background of the server that received them. Each
 * run launches its own Chromium, so a server runs a bounded number at a time and refuses more with a clear
 * message rather than exhausting the machine. Every server also sweeps for runs whose process stopped
 * (lease.ts) and ends them. Made once at start-up and passed down.
 */
import { createRun, endLapsedRuns, executeRun, RunRefused, type EngineDeps, type RunInput } from './engine.ts';
import { SWEEP_EVERY_MS } from './lease.ts';

export interface RunScheduler {
  /** Records the run and starts it; resolves with its id as soon as it is recorded. */
  start(input: RunInput): Promise<string>;
  /** Resolves when every run started here has finished (for shutdown and tests). */
  idle(): Promise<void>;
  /** Stops sweeping and waits for the runs started here. */
  close(): Promise<void>;
}

export interface SchedulerOptions {
  /** Runs at once in this process. */
  maxActive?: number;
  /** How often this instance looks for runs whose lease lapsed. */
  sweepEveryMs?: number;
}

export function createRunScheduler(d: EngineDeps, log: { error(obj: object, msg: string): void }, o: SchedulerOptions = {}): RunScheduler {
  const maxActive = o.maxActive ?? 2;
  const active = new Set<Promise<unknown>>();
  // Runs being recorded: their slots are taken before the first await, so requests at once cannot all pass the check.
  let starting = 0;
  // At start-up too: a restarted instance ends what it (or another) left behind without waiting an interval.
  let sweeping: Promise<unknown> | undefined;
  const sweep = () => {
    sweeping ??= endLapsedRuns(d).catch((err: unknown) => log.error({ err }, 'ending lapsed conformance runs failed')).finally(() => {
      sweeping = undefined;
    });
  };
  sweep();
  const sweeper = setInterval(sweep, o.sweepEveryMs ?? SWEEP_EVERY_MS).unref();
  return {
    async start(input) {
      if (active.size + starting >= maxActive)
        throw new RunRefused(
          `The toolkit is already running ${active.size + starting} conformance runs: try again in a minute`,
          'client_id',
        );
      starting++;
      let id: string;
      try {
        id = await createRun(d, input);
      } finally {
        starting--;
      }
      const run: Promise<unknown> = executeRun(d, id)
        .catch((err: unknown) => log.error({ err, runId: id }, 'conformance run failed'))
        .finally(() => active.delete(run));
      active.add(run);
      return id;
    },
    async idle() {
      await Promise.all([...active]);
    },
    async close() {
      clearInterval(sweeper);
      await sweeping;
      await Promise.all([...active]);
    },
  };
}
