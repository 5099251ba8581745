/**
 * `toolkit faults arm|show|clear CLIENT_ID --url URL`: a partner's CI arms a sequence of faults for one of its clients
 * through /api/v1 (api/faults.ts), e.g. before a conformance run or its own end-to-end tests, reads what fired, and
 * clears it. A fault is `KIND[:LASTS][:DELAYms]`: LASTS is a number of responses (the default, 1), `Ns` seconds or
 * `cleared`; a delay (token_latency, userinfo_latency) is in milliseconds.
 */
import { CliError, type Io } from './main.ts';
import { api, type Remote } from './remote.ts';

type Values = Record<string, string | boolean | string[] | undefined>;
interface Step { kind: string; count?: number; seconds?: number; ms?: number }
interface FaultsView {
  armed_at: string | null;
  steps: { kind: string; count: number | null; seconds: number | null; ms: number | null; fired: number; state: string }[];
}

const USE = 'give each fault as KIND[:N|:Ns|:cleared][:MSms], e.g. --fault token_temporarily_unavailable --fault token_latency:1:15000ms';

/** One --fault value as the API's step; the API checks the kind and the ranges and names the step it refuses. */
export function parseFault(spec: string): Step {
  const [kind, ...parts] = spec.split(':');
  if (!kind) throw new CliError(`--fault "${spec}": ${USE}`);
  const step: Step = { kind };
  let lasts = false;
  for (const part of parts) {
    const m = /^(?:(\d{1,7})|(\d{1,7})s|(cleared)|(\d{1,7})ms)$/.exec(part);
    if (!m || (lasts && m[4] === undefined) || (m[4] !== undefined && step.ms !== undefined)) {
      throw new CliError(`--fault "${spec}": ${USE}`);
    }
    if (m[1] !== undefined) step.count = Number(m[1]);
    else if (m[2] !== undefined) step.seconds = Number(m[2]);
    else if (m[4] !== undefined) step.ms = Number(m[4]);
    lasts ||= m[4] === undefined;
  }
  if (!lasts) step.count = 1;
  return step;
}

const path = (clientId: string | undefined, command: string) => {
  if (!clientId) throw new CliError(`give the client_id: toolkit faults ${command} CLIENT_ID --url URL`);
  return `/clients/${encodeURIComponent(clientId)}/faults`;
};

export async function faultsArmRemote(remote: Remote, clientId: string | undefined, v: Values, io: Io): Promise<number> {
  const at = path(clientId, 'arm');
  const specs = (v.fault as string[] | undefined) ?? [];
  if (!specs.length) throw new CliError(`--fault is required: ${USE}`);
  await api(remote, 'PUT', at, { steps: specs.map(parseFault) });
  return faultsShowRemote(remote, clientId, v, io);
}

export async function faultsShowRemote(remote: Remote, clientId: string | undefined, v: Values, io: Io): Promise<number> {
  const armed = await api<FaultsView>(remote, 'GET', path(clientId, 'show'));
  if (v.json) io.out(JSON.stringify(armed));
  else if (!armed.steps.length) io.out('No faults armed.');
  else {
    for (const [i, s] of armed.steps.entries()) {
      const lasts = s.count !== null ? `${s.count} responses` : s.seconds !== null ? `${s.seconds} s` : 'until cleared';
      const what = `${s.kind}${s.ms ? ` ${s.ms} ms` : ''}`;
      io.out(`${String(i + 1).padStart(2)}. ${s.state.padEnd(8)} fired ${String(s.fired).padEnd(4)} ${lasts.padEnd(16)} ${what}`);
    }
  }
  return 0;
}

export async function faultsClearRemote(remote: Remote, clientId: string | undefined, io: Io): Promise<number> {
  await api(remote, 'DELETE', path(clientId, 'clear'));
  io.out('Faults cleared.');
  return 0;
}
