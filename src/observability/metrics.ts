/**
 * Prometheus text exposition of this instance's counters. Counting is per process, as Prometheus expects
 * (it sums across instances); the durable record of what happened is the protocol record in the database.
 */
import type { EventSink, ProtocolEvent } from '../storage/index.ts';

type Labels = Record<string, string>;

/**
 * A counter with a fixed set of label names, kept in the order given. Every request counts, so counting only
 * walks a tree of the raw label values; label text is built and escaped when /metrics renders.
 */
class Counter<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly #labelNames: readonly L[];
  /** One level per label name, the last level holding the counts. */
  readonly #root = new Map<string, unknown>();
  constructor(name: string, help: string, labelNames: readonly L[]) {
    this.name = name;
    this.help = help;
    this.#labelNames = labelNames;
  }
  inc(labels: Record<L, string>, by = 1) {
    let node = this.#root;
    const last = this.#labelNames.length - 1;
    for (let i = 0; i < last; i++) {
      const value = labels[this.#labelNames[i]!];
      let child = node.get(value) as Map<string, unknown> | undefined;
      if (!child) node.set(value, (child = new Map()));
      node = child;
    }
    const leaf = labels[this.#labelNames[last]!];
    node.set(leaf, ((node.get(leaf) as number | undefined) ?? 0) + by);
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    const walk = (node: Map<string, unknown>, depth: number, prefix: string) => {
      for (const [value, child] of node) {
        const pair = `${prefix}${depth ? ',' : ''}${this.#labelNames[depth]}="${value.replace(/["\\\n]/g, '_')}"`;
        if (depth === this.#labelNames.length - 1) lines.push(`${this.name}{${pair}} ${child as number}`);
        else walk(child as Map<string, unknown>, depth + 1, pair);
      }
    };
    walk(this.#root, 0, '');
    return lines.join('\n');
  }
}

export class Metrics {
  readonly requests = new Counter('toolkit_http_requests_total', 'HTTP requests by environment and status class.', ['env', 'status']);
  readonly logins = new Counter(
    'toolkit_logins_total',
    'Sign-ins (the password step or a passkey) by environment, outcome and method.',
    ['env', 'outcome', 'method'],
  );
  readonly tokens = new Counter('toolkit_tokens_issued_total', 'Token endpoint successes by environment and grant type.', [
    'env',
    'grant_type',
  ]);
  readonly errors = new Counter('toolkit_protocol_errors_total', 'Protocol errors by environment, kind and OAuth error code.', [
    'code',
    'env',
    'kind',
  ]);
  readonly registrations = new Counter('toolkit_registrations_total', 'New NHS login accounts created in the journeys, by environment.', [
    'env',
  ]);
  readonly verifications = new Counter('toolkit_verifications_total', 'Identity verifications (uplift) by environment and level reached.', [
    'env',
    'level',
  ]);
  readonly usersV2 = new Counter('toolkit_users_v2_lookups_total', 'Users Endpoint V2 look-ups by environment and outcome.', [
    'env',
    'outcome',
  ]);
  readonly gpSessions = new Counter(
    'toolkit_gp_sessions_total',
    'Sessions asked of the stand-in GP system, by environment and answer (Linked, Restricted or the refusal\'s code).',
    ['answer', 'env'],
  );
  readonly provision = new Counter('toolkit_provision_requests_total', 'Provision Account requests by environment and answer code.', [
    'code',
    'env',
  ]);
  readonly clientRequests = new Counter(
    'toolkit_client_requests_total',
    'Protocol exchanges per client, by environment, client and outcome (error rates per client).',
    ['client', 'env', 'outcome'],
  );
  readonly clientLogins = new Counter(
    'toolkit_client_logins_total',
    'Completed logins (codes redeemed) per client, by environment and client.',
    ['client', 'env'],
  );

  /** Counts a protocol event (the same events the protocol record stores). */
  observe(e: ProtocolEvent) {
    if (e.kind === 'sign_in' || e.kind === 'passkey_sign_in')
      this.logins.inc({ env: e.env, outcome: e.outcome, method: e.kind === 'sign_in' ? 'password' : 'passkey' });
    if (e.kind === 'token' && e.outcome === 'ok') this.tokens.inc({ env: e.env, grant_type: String(e.details?.grant_type ?? 'unknown') });
    if (e.outcome === 'error') this.errors.inc({ env: e.env, kind: e.kind, code: e.error });
    if (e.kind === 'registration' && e.outcome === 'ok') this.registrations.inc({ env: e.env });
    if (e.kind === 'uplift' && e.outcome === 'ok') this.verifications.inc({ env: e.env, level: String(e.details?.to ?? 'unknown') });
    if (e.kind === 'users_v2') this.usersV2.inc({ env: e.env, outcome: e.outcome });
    // The answer's code: create, uplift, or the refusal's (P§3.3.2 T9, §3.3.3 T11).
    if (e.kind === 'provision') this.provision.inc({ env: e.env, code: e.outcome === 'ok' ? String(e.details?.code ?? 'ok') : e.error });
    if (e.kind === 'gp_session')
      this.gpSessions.inc({ env: e.env, answer: e.outcome === 'ok' ? String(e.details?.level ?? 'ok') : e.error });
    if (e.clientId) this.clientRequests.inc({ env: e.env, client: e.clientId, outcome: e.outcome });
    if (e.clientId && e.kind === 'token' && e.outcome === 'ok' && e.details?.grant_type === 'authorization_code')
      this.clientLogins.inc({ env: e.env, client: e.clientId });
  }

  render(gauges: { name: string; help: string; values: { labels: Labels; value: number }[] }[] = []): string {
    const counters = [
      this.requests,
      this.logins,
      this.tokens,
      this.errors,
      this.registrations,
      this.verifications,
      this.usersV2,
      this.provision,
      this.gpSessions,
      this.clientRequests,
      this.clientLogins,
    ].map((c) => c.render());
    const rendered = gauges.map((g) =>
      [
        `# HELP ${g.name} ${g.help}`,
        `# TYPE ${g.name} gauge`,
        ...g.values.map(
          (v) =>
            `${g.name}{${Object.entries(v.labels)
              .map(([k, x]) => `${k}="${x}"`)
              .join(',')}} ${v.value}`,
        ),
      ].join('\n'),
    );
    return [...counters, ...rendered].join('\n') + '\n';
  }
}

/** Sends each event to the protocol record and to the counters. */
export function meteredSink(sink: EventSink, metrics: Metrics): EventSink {
  return {
    record(e) {
      metrics.observe(e);
      sink.record(e);
    },
    flush: () => sink.flush(),
    close: () => sink.close(),
  };
}
