/**
 * Fault sequences (issue 16 §4): an ordered list of faults armed for one client of the sandpit or integration, each
 * for the next N responses it fits, for M seconds once it starts, or (the last only) until cleared. The step that
 * applies is the first not yet used up; a response it does not fit (a userinfo call while a token fault waits) goes
 * through untouched and leaves the sequence where it is. So "the next token request answers temporarily_unavailable,
 * then one answers normally, then the ID token has expired" is three steps.
 *
 * The sequence stays stored, every step marked done, after the last one is used up, so a partner can see what fired.
 */
import { setClientFault, updateClientFault, type Db, type FaultSequenceRecord, type FaultStepRecord } from '../storage/index.ts';
import { capabilitiesOf } from '../config/index.ts';
import { FAULTS, FaultError, isFaultKind, type FaultKind } from './faults.ts';

export const MAX_STEPS = 20;
export const MAX_COUNT = 1000;
export const MAX_SECONDS = 3600;
/** Long enough for a relying party's own timeout to give up first (the OIDF RP tests' slow token endpoint). */
export const MAX_LATENCY_MS = 30_000;

/** A step as a partner asks for it: the fault and how long it lasts. */
export interface StepRequest {
  kind: unknown;
  count?: unknown;
  seconds?: unknown;
  ms?: unknown;
}

export const isLatency = (kind: string) => kind.endsWith('_latency');

const whole = (v: unknown, min: number, max: number) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const given = (v: unknown) => v !== undefined && v !== null;

/** The steps as asked, checked one by one; the first problem names its step (`steps.2.count`). */
export function checkSteps(asked: unknown): Omit<FaultStepRecord, 'fired' | 'startedAt'>[] {
  if (!Array.isArray(asked) || asked.length === 0) throw new FaultError('Add at least one fault to the sequence', 'steps');
  if (asked.length > MAX_STEPS) throw new FaultError(`A sequence has at most ${MAX_STEPS} faults`, 'steps');
  return asked.map((raw: unknown, i) => {
    const at = (field: string) => `steps.${i + 1}.${field}`;
    const s = (raw && typeof raw === 'object' ? raw : {}) as StepRequest;
    // "Fault 2: enter ..." in a sequence; "Enter ..." for one fault.
    const n = asked.length > 1 ? `Fault ${i + 1}: ` : '';
    const fail = (text: string, field: string) => new FaultError(n ? `${n}${text}` : text[0]!.toUpperCase() + text.slice(1), at(field));
    if (!isFaultKind(s.kind)) throw fail('choose a fault from the list', 'kind');
    if (given(s.count) && !whole(s.count, 1, MAX_COUNT))
      throw fail(`enter how many responses to spoil, from 1 to ${MAX_COUNT}`, 'count');
    if (given(s.seconds) && !whole(s.seconds, 1, MAX_SECONDS))
      throw fail(`enter how many seconds it lasts, from 1 to ${MAX_SECONDS}`, 'seconds');
    if (given(s.count) && given(s.seconds)) throw fail('give a number of responses or of seconds, not both', 'seconds');
    if (!given(s.count) && !given(s.seconds) && i < asked.length - 1)
      throw fail('only the last fault can last until cleared: give a number of responses or of seconds', 'count');
    if (isLatency(s.kind) !== given(s.ms) || (given(s.ms) && !whole(s.ms, 1, MAX_LATENCY_MS))) {
      const text = isLatency(s.kind) ? `enter the delay in milliseconds, from 1 to ${MAX_LATENCY_MS}` : 'only a delay has milliseconds';
      throw fail(text, 'ms');
    }
    return { kind: s.kind, count: (s.count as number | undefined) ?? null, seconds: (s.seconds as number | undefined) ?? null,
      ms: (s.ms as number | undefined) ?? null };
  });
}

/** Arms a sequence for a client, replacing whatever was armed; never in live. */
export async function armFaults(db: Db, env: string, clientId: string, asked: unknown): Promise<void> {
  if (!capabilitiesOf(env)?.faults) throw new FaultError('Faults can never be injected in live');
  const now = Date.now();
  const steps = checkSteps(asked).map((s, i) => ({ ...s, fired: 0, startedAt: i === 0 ? now : null }));
  await setClientFault(db, env, clientId, { steps, armedAt: now });
}

/** Arms one fault: a sequence of one step, for the next `count` responses it fits, or until cleared when count is null. */
export function armFault(db: Db, env: string, clientId: string, kind: unknown, count: unknown): Promise<void> {
  return armFaults(db, env, clientId, [{ kind, count }]);
}

/**
 * Adds a step after those armed (the portal builds a sequence one fault at a time); once every step is done, the next one
 * added starts a new sequence.
 */
export async function addFault(db: Db, env: string, clientId: string, step: StepRequest): Promise<void> {
  if (!capabilitiesOf(env)?.faults) throw new FaultError('Faults can never be injected in live');
  const [added] = checkSteps([step]);
  let problem: FaultError | undefined;
  const written = await updateClientFault(db, env, clientId, (seq) => {
    problem = undefined;
    if (!applying(seq, Date.now())) return undefined;
    const last = seq.steps.at(-1)!;
    if (last.count === null && last.seconds === null)
      problem = new FaultError('The last fault lasts until cleared: clear the sequence to start another', 'kind');
    else if (seq.steps.length >= MAX_STEPS) problem = new FaultError(`A sequence has at most ${MAX_STEPS} faults`, 'kind');
    return problem ? undefined : { ...seq, steps: [...seq.steps, { ...added!, fired: 0, startedAt: null }] };
  });
  if (problem) throw problem;
  if (!written) await armFaults(db, env, clientId, [step]);
}

export function clearFaults(db: Db, env: string, clientId: string): Promise<void> {
  return setClientFault(db, env, clientId, null);
}

/** Each step's start, and which one applies now: a timed step ends by itself, a counted one when its last response fired. */
function timeline(seq: FaultSequenceRecord, now: number) {
  let carry = seq.armedAt;
  let current: number | undefined;
  const rows = seq.steps.map((s, i) => {
    const start = s.startedAt ?? (current === undefined ? carry : null);
    const end = s.seconds !== null && start !== null ? start + s.seconds * 1000 : null;
    const done = (s.count !== null && s.fired >= s.count) || (end !== null && now >= end);
    if (current === undefined && !done) current = i;
    if (end !== null) carry = end;
    return { step: s, start, done };
  });
  return { rows, current };
}

const applying = (seq: FaultSequenceRecord, now: number) => timeline(seq, now).current !== undefined;

/**
 * Uses up one response of the step that applies now, when `fits` says this response is one it spoils; returns that step.
 * A compare-and-swap (storage), so two instances never both count the same response.
 */
export async function takeFault(db: Db, env: string, clientId: string, fits: (kind: string) => boolean)
  : Promise<(FaultStepRecord & { kind: FaultKind; index: number }) | undefined> {
  let taken: (FaultStepRecord & { kind: FaultKind; index: number }) | undefined;
  await updateClientFault(db, env, clientId, (seq) => {
    taken = undefined;
    const now = Date.now();
    const { rows, current } = timeline(seq, now);
    if (current === undefined) return undefined;
    const row = rows[current]!;
    if (!isFaultKind(row.step.kind) || !fits(row.step.kind)) return undefined;
    const steps = seq.steps.map((s) => ({ ...s }));
    const step = steps[current]!;
    step.startedAt = row.start;
    step.fired += 1;
    const next = steps[current + 1];
    if (next && step.count !== null && step.fired >= step.count) next.startedAt = now;
    taken = { ...step, kind: row.step.kind, index: current };
    return { ...seq, steps };
  });
  return taken;
}

export type StepState = 'done' | 'applies' | 'waiting';

/** The sequence as a partner reads it: each step, what it does, how long, how often it fired, and whether it still applies. */
export function describeFaults(seq: FaultSequenceRecord | null, now = Date.now()) {
  if (!seq) return null;
  const { rows, current } = timeline(seq, now);
  return {
    armedAt: seq.armedAt,
    steps: rows.map(({ step, start, done }, i) => ({
      kind: step.kind,
      text: Object.hasOwn(FAULTS, step.kind) ? FAULTS[step.kind as FaultKind] : step.kind,
      count: step.count,
      seconds: step.seconds,
      ms: step.ms,
      fired: step.fired,
      startedAt: i === current || done ? start : null,
      state: (done ? 'done' : i === current ? 'applies' : 'waiting') as StepState,
    })),
  };
}
export type FaultsView = NonNullable<ReturnType<typeof describeFaults>>;
