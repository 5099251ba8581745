/**
 * The `toolkit` command: the same domain functions as the web routes, never a second implementation.
 * Every command accepts --json for machine-readable output; errors exit non-zero with a specific message.
 */
import { parseArgs } from 'node:util';
import { ENVIRONMENT_NAMES, loadConfig, type EnvironmentName } from '../config/index.ts';
import { ToolkitError, type ErrorCode } from '../errors.ts';
import { createEventSink, openDatabase } from '../storage/index.ts';
import { RegistrationError } from '../identity/index.ts';
import { clientsCreate, clientsList, clientsShow, clientsSso } from './clients.ts';
import { keysGenerate, keysRotate } from './keys.ts';
import { auditExport, auditVerify, organisationsCreate, teamCreateAdmin } from './team.ts';
import { conformanceRun, conformanceRunRemote, conformanceVerify } from './conformance.ts';
import { remoteOf } from './remote.ts';
import { clientsCreateRemote, clientsListRemote, clientsShowRemote } from './clients-remote.ts';
import { faultsArmRemote, faultsClearRemote, faultsShowRemote } from './faults-remote.ts';
import { testUsersCreateRemote, testUsersDeleteRemote, testUsersListRemote } from './test-users-remote.ts';
import { createOnboarding } from '../onboarding/index.ts';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** A line that replaces itself (a terminal's progress); '' clears it. Absent when output is not a terminal. */
  progress?(text: string): void;
}

/** Progress on stderr, only on a terminal: a CI log gets the finished tests, not a line per poll. */
const terminalProgress = process.stderr.isTTY
  ? (t: string) => process.stderr.write(`\r\x1b[2K${t}`)
  : undefined;

const USAGE = `Usage:
  toolkit clients create --env sandpit --name NAME --redirect-uri URL... (--public-key FILE.pem | --jwks-uri URL)
                         [--scope SCOPE...] [--vtr VECTOR...] [--im1] [--organisation ID_OR_NAME] [--json]
                                                      without --organisation the client is the operator's own:
                                                      no partner sees it in the portal
  toolkit clients list [--env ENV] [--json]
  toolkit clients show CLIENT_ID [--env ENV] [--json]
                                                      with --url TOOLKIT_URL (and TOOLKIT_TOKEN), clients create, list
                                                      and show are your organisation's, through the toolkit's API
  toolkit clients sso CLIENT_ID --env ENV [--to CLIENT_ID...] [--json]
                                                      the clients it may single sign-on into (none: clears)
  toolkit keys generate --out DIR [--json]            RSA 2048 key pair as PEM (DIR/private.pem, DIR/public.pem)
  toolkit keys rotate --env ENV --step publish|switch|retire
                                                      rotate an environment's signing key (three steps)
  toolkit team create-admin --email EMAIL             a console admin, with a one-time set-up link
  toolkit organisations create --name NAME --email EMAIL [--ods CODE] [--token-name NAME] [--json]
                                                      a partner organisation, its admin invited by a link; with
                                                      --token-name, an API token for its CI (shown once)
  toolkit audit verify [--head SEQ:HASH] [--json]     check the audit trail's hash chain (exit 1 if broken);
                                                      --head: a head printed earlier must still be in it
  toolkit audit export                                the whole audit trail as JSON
  toolkit conformance run --client ID --start-url URL [--env sandpit|integration] [--only TEST,TEST...]
                          [--button SELECTOR] [--signed-in-text TEXT] [--junit FILE] [--report FILE] [--json]
                                                      test your service in a real browser (exit 1 unless all pass);
                                                      the toolkit must be running on the same database
  toolkit conformance run --url TOOLKIT_URL --client ID --start-url URL [--only ...] [--junit FILE] [--report FILE]
                                                      the same through a running toolkit's API, from your CI: the
                                                      API token in TOOLKIT_TOKEN (or --token); TOOLKIT_URL for --url
                          [--start-url-for TEST=URL]...
                                                      (either mode) also run TEST, against your service configured
                                                      with the client's test issuer for it (its test_issuers)
  toolkit conformance verify REPORT [--url TOOLKIT_URL]
                                                      check a signed conformance report (with --url: that toolkit's)
  toolkit faults arm CLIENT_ID --url TOOLKIT_URL --fault KIND[:N|:Ns|:cleared][:MSms]... [--json]
                                                      arm faults in this order for a sandpit or integration client
                                                      (replacing what was armed): each for N responses (default 1),
                                                      N seconds or until cleared; delays in ms
  toolkit faults show|clear CLIENT_ID --url TOOLKIT_URL [--json]
                                                      what is armed and what fired; clear it
  toolkit test-users create --url TOOLKIT_URL --nhs-number N [--env sandpit|integration] [--level P0|P5|P9]
                           [--given-name NAME --family-name NAME --birthdate YYYY-MM-DD] [--postcode PC]
                           [--gp-ods-code CODE] [--phone MOBILE] [--email EMAIL] [--otp-disabled] [--json]
                                                      a test user of your organisation (default: sandpit, P9), from
                                                      the test PDS record of that NHS number or, with --given-name,
                                                      your own details; prints the email it signs in with
  toolkit test-users list [--env ENV] --url TOOLKIT_URL [--json]
  toolkit test-users delete ID --url TOOLKIT_URL
  toolkit demo seed                                   fill a fresh install with twelve demo partners
An option given several times takes each value (--scope openid --scope profile); --only also takes a comma list.
Environment variables: DATABASE_URL (see README); TOOLKIT_URL and TOOLKIT_TOKEN for the commands that take --url.`;

const TEST_USER_COMMANDS = ['test-users create', 'test-users list', 'test-users delete'];
/** The commands a partner runs against a toolkit elsewhere, through its API (remote.ts); the rest are the operator's. */
const REMOTE_COMMANDS: ReadonlySet<string> = new Set([
  'clients create', 'clients list', 'clients show', 'conformance run', 'conformance verify', 'faults arm', 'faults show', 'faults clear',
  ...TEST_USER_COMMANDS,
]);

/** How many positional arguments each command takes after its name; any more is a mistake, never ignored. */
const POSITIONALS: Record<string, number> = {
  'clients show': 1, 'clients sso': 1, 'conformance verify': 1, 'faults arm': 1, 'faults show': 1, 'faults clear': 1,
  'test-users delete': 1,
};
/** Commands that only talk to a running toolkit: a partner's faults are armed through its API, never in the database. */
const API_ONLY: ReadonlySet<string> = new Set(['faults arm', 'faults show', 'faults clear', ...TEST_USER_COMMANDS]);

export class CliError extends ToolkitError<'usage'> {
  override name = 'CliError';
  constructor(message: string) {
    super('usage', message);
  }
}

export function envOption(value: string | undefined, required = true): EnvironmentName | undefined {
  if (value === undefined) {
    if (required) throw new CliError(`--env is required: one of ${ENVIRONMENT_NAMES.join(', ')}`);
    return undefined;
  }
  if (!(ENVIRONMENT_NAMES as readonly string[]).includes(value))
    throw new CliError(`--env must be one of ${ENVIRONMENT_NAMES.join(', ')}, got "${value}"`);
  return value as EnvironmentName;
}

export async function main(
  argv: string[],
  io: Io = { out: (t) => console.log(t), err: (t) => console.error(t), ...(terminalProgress ? { progress: terminalProgress } : {}) },
  env = process.env,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        env: { type: 'string' },
        name: { type: 'string' },
        'redirect-uri': { type: 'string', multiple: true },
        'public-key': { type: 'string' },
        'jwks-uri': { type: 'string' },
        scope: { type: 'string', multiple: true },
        vtr: { type: 'string', multiple: true },
        im1: { type: 'boolean' },
        organisation: { type: 'string' },
        out: { type: 'string' },
        step: { type: 'string' },
        email: { type: 'string' },
        ods: { type: 'string' },
        'token-name': { type: 'string' },
        to: { type: 'string', multiple: true },
        fault: { type: 'string', multiple: true },
        'nhs-number': { type: 'string' },
        level: { type: 'string' },
        'given-name': { type: 'string' },
        'family-name': { type: 'string' },
        birthdate: { type: 'string' },
        postcode: { type: 'string' },
        'gp-ods-code': { type: 'string' },
        phone: { type: 'string' },
        'otp-disabled': { type: 'boolean' },
        client: { type: 'string' },
        'start-url': { type: 'string' },
        'start-url-for': { type: 'string', multiple: true },
        only: { type: 'string', multiple: true },
        button: { type: 'string' },
        'signed-in-text': { type: 'string' },
        junit: { type: 'string' },
        report: { type: 'string' },
        head: { type: 'string' },
        url: { type: 'string' },
        token: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    io.err(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [group, command, ...rest] = positionals;
  if (values.help || !group) {
    io.out(USAGE);
    return values.help ? 0 : 2;
  }
  const allowed = POSITIONALS[`${group} ${command}`] ?? 0;
  if (command !== undefined && rest.length > allowed) {
    // e.g. `--only a b`: parseArgs takes "b" as a positional; running only "a" would silently drop it.
    const stray = rest[allowed]!;
    const hint = 'an option takes one value: repeat it (--only a --only b) or, for --only, give a comma list (--only a,b)';
    const message = `unexpected argument "${stray}"`;
    io.err(values.json ? JSON.stringify({ error: 'usage', message }) : `Error: ${message}: ${hint}`);
    return 2;
  }
  try {
    if (group === 'keys' && command === 'generate') return await keysGenerate(values, io);
    const which = `${group} ${command}`;
    const remote = REMOTE_COMMANDS.has(which) ? remoteOf(values, env, which !== 'conformance verify') : undefined;
    if (remote) {
      if (which === 'conformance run') return await conformanceRunRemote(remote, values, io);
      if (which === 'conformance verify') return await conformanceVerify({ remote }, rest[0], values, io);
      if (which === 'faults arm') return await faultsArmRemote(remote, rest[0], values, io);
      if (which === 'faults show') return await faultsShowRemote(remote, rest[0], values, io);
      if (which === 'faults clear') return await faultsClearRemote(remote, rest[0], io);
      if (which === 'test-users create') return await testUsersCreateRemote(remote, values, io);
      if (which === 'test-users list') return await testUsersListRemote(remote, values, io);
      if (which === 'test-users delete') return await testUsersDeleteRemote(remote, rest[0], io);
      if (which === 'clients create') return await clientsCreateRemote(remote, values, io);
      if (which === 'clients list') return await clientsListRemote(remote, values, io);
      return await clientsShowRemote(remote, rest[0], values, io);
    }
    if (API_ONLY.has(which)) throw new CliError(`"${which}" talks to a running toolkit: give --url (or TOOLKIT_URL) and TOOLKIT_TOKEN`);
    if (values.url !== undefined || values.token !== undefined) {
      throw new CliError(`--url and --token are for ${[...REMOTE_COMMANDS].join(', ')}: "${which}" runs on the toolkit's own machine`);
    }
    const config = loadConfig(env);
    const database = await openDatabase(config.database);
    // The same use-cases as the web faces (onboarding/use-cases.ts); the CLI sends no mail and has no test people.
    const onboarding = createOnboarding({ db: database.db, config });
    try {
      if (group === 'clients' && command === 'create') return await clientsCreate(onboarding, values, io);
      if (group === 'clients' && command === 'list') return await clientsList(onboarding, values, io);
      if (group === 'clients' && command === 'show') return await clientsShow(onboarding, rest[0], values, io);
      if (group === 'clients' && command === 'sso') return await clientsSso(onboarding, rest[0], values, io);
      if (group === 'keys' && command === 'rotate') return await keysRotate(database.db, values, io);
      if (group === 'team' && command === 'create-admin') return await teamCreateAdmin(onboarding, config, values, io);
      if (group === 'organisations' && command === 'create') return await organisationsCreate(onboarding, config, values, io);
      if (group === 'audit' && command === 'verify') return await auditVerify(onboarding, values, io);
      if (group === 'audit' && command === 'export') return await auditExport(onboarding, io);
      if (group === 'conformance' && command === 'run') return await conformanceRun({ config, db: database.db }, values, io);
      if (group === 'demo' && command === 'seed') {
        const events = createEventSink(database.db, (err) => io.err(String(err)));
        const { partners } = await createOnboarding({ db: database.db, config, events }).seedDemo();
        await events.close();
        io.out(
          values.json
            ? JSON.stringify({ partners })
            : `Seeded ${partners} demo partners at every stage. Sign in to the console to see them (toolkit team create-admin).`,
        );
        return 0;
      }
      if (group === 'conformance' && command === 'verify') return await conformanceVerify({ config, db: database.db }, rest[0], values, io);
    } finally {
      await database.close();
    }
    io.err(`Unknown command "${positionals.join(' ')}"\n\n${USAGE}`);
    return 2;
  } catch (e) {
    if (!(e instanceof ToolkitError)) throw e;
    const { line, exit } = exitLine(e, values.json === true);
    io.err(line);
    return exit;
  }
}

/** Asked for what cannot be: the command line (or the configuration it runs with) is to change, exit 2. */
const USAGE_CODES: ReadonlySet<ErrorCode> = new Set([
  'usage', 'invalid_config', 'run_refused', 'invalid_start_url', 'live_not_allowed', 'unknown_test', 'unauthorized',
]);

/** The CLI's one translation of the toolkit's errors: the line on stderr (JSON with --json) and the exit status. */
export function exitLine(e: ToolkitError, json: boolean): { line: string; exit: number } {
  // A registration rule names the option it is about; the other messages say it themselves.
  const where = e instanceof RegistrationError ? ` (${e.field})` : '';
  const line = json ? JSON.stringify({ error: e.code, field: e.field, message: e.message }) : `Error${where}: ${e.message}`;
  return { line, exit: USAGE_CODES.has(e.code) ? 2 : 1 };
}
