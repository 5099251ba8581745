/**
 * The client page's fault panel (identity/fault-sequence.ts): the faults armed in order, what each has fired, and a
 * form that adds one more. Without JavaScript every field is on the page; a refusal shows it again as typed.
 */
import { describeFaults, FAULTS, FaultError, type FaultsView } from '../identity/index.ts';
import type { StepRequest } from '../identity/fault-sequence.ts';
import type { ClientRecord } from '../onboarding/index.ts';
import { CHOICE, CSRF, form, text } from '../web/forms.ts';

export const FAULT_FORM = form({
  _csrf: CSRF, action: CHOICE('Action'), fault: CHOICE('Fault'), lasts: CHOICE('How long it lasts'),
  count: text('Number of responses', 10), seconds: text('Number of seconds', 10), ms: text('Delay in milliseconds', 10),
});

export type FaultTyped = { fault: string; lasts: string; count: string; seconds: string; ms: string };
type Body = Record<string, string | undefined> | undefined;

export const typedFault = (b: Body): FaultTyped =>
  ({ fault: b?.fault ?? '', lasts: b?.lasts ?? '', count: b?.count ?? '', seconds: b?.seconds ?? '', ms: b?.ms ?? '' });

/** The step the form asks for: a number where one was typed (anything else is refused as the field's own error). */
export function stepFromForm(t: FaultTyped): StepRequest {
  if (!['responses', 'seconds', 'cleared'].includes(t.lasts)) throw new FaultError('Choose how long the fault lasts', 'lasts');
  const number = (s: string) => (s.trim() === '' ? undefined : Number(s.trim()));
  return {
    kind: t.fault,
    count: t.lasts === 'responses' ? number(t.count) ?? NaN : undefined,
    seconds: t.lasts === 'seconds' ? number(t.seconds) ?? NaN : undefined,
    ms: number(t.ms),
  };
}

/** A refusal's field (`steps.1.count`) as the form's input id. */
export const faultField = (field: string | undefined) => {
  const f = field?.split('.').at(-1);
  return f === 'count' || f === 'seconds' || f === 'ms' || f === 'lasts' ? f : 'fault';
};

const plural = (n: number, one: string) => `${n.toLocaleString('en-GB')} ${one}${n === 1 ? '' : 's'}`;
const STATE = { done: 'Done', applies: 'Applies now', waiting: 'Waiting' } as const;
const TAG = { done: 'nhsuk-tag--grey', applies: 'nhsuk-tag--orange', waiting: 'nhsuk-tag--white' } as const;

/** What the panel shows: nothing in live (no panel that could only refuse). */
export function faultPanel(client: ClientRecord, liveless: boolean, typed?: FaultTyped) {
  if (!liveless) return undefined;
  const armed: FaultsView | null = describeFaults(client.fault);
  const steps = armed?.steps.map((s, i) => ({
    n: i + 1,
    text: s.ms ? `${s.text}: ${plural(s.ms, 'millisecond')}` : s.text,
    lasts: s.count !== null ? plural(s.count, 'response') : s.seconds !== null ? plural(s.seconds, 'second') : 'Until cleared',
    fired: s.fired,
    state: STATE[s.state],
    tag: TAG[s.state],
  })) ?? [];
  const open = steps.some((s) => s.state !== STATE.done);
  const last = armed?.steps.at(-1);
  return {
    kinds: Object.entries(FAULTS).map(([value, text]) => ({ value, text, selected: value === typed?.fault })),
    steps,
    // Once every step is done, the next fault starts a new sequence; none can follow one that lasts until cleared.
    adding: open,
    closed: open && last?.count === null && last.seconds === null,
    typed: typed ?? { fault: '', lasts: 'responses', count: '1', seconds: '', ms: '' },
  };
}
