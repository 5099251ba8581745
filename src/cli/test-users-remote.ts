/**
 * `toolkit test-users create|list|delete --url URL`: a partner's CI seeds the test users its own records need, through
 * /api/v1 (api/organisation.ts), before its end-to-end tests or a conformance run. Without --given-name, a test PDS
 * record's person; with it, the partner's own demographics (the API checks each and names the field it refuses).
 * `create` prints the email to sign in with (or to send as X-Toolkit-Test-User) alone on stdout.
 */
import { CliError, type Io } from './main.ts';
import { api, type Remote } from './remote.ts';

type Values = Record<string, string | boolean | string[] | undefined>;

interface TestUserView {
  id: string;
  env: string;
  email: string;
  nhs_number: string | null;
  given_name: string | null;
  family_name: string | null;
  level: string;
}

/** The options that are the API's fields of one's own demographics, by the name the API gives them. */
const OWN: Record<string, string> = {
  'given-name': 'given_name', 'family-name': 'family_name', birthdate: 'birthdate', postcode: 'postcode',
  'gp-ods-code': 'gp_ods_code', phone: 'phone_number', email: 'email',
};

export async function testUsersCreateRemote(remote: Remote, v: Values, io: Io): Promise<number> {
  if (!v['nhs-number']) throw new CliError('--nhs-number is required: a test PDS record\'s, or with --given-name any from the test range');
  const own = Object.fromEntries(Object.entries(OWN).filter(([option]) => v[option] !== undefined)
    .map(([option, field]) => [field, String(v[option])]));
  const user = await api<TestUserView>(remote, 'POST', '/test-users', {
    env: (v.env as string | undefined) ?? 'sandpit', nhs_number: String(v['nhs-number']), level: (v.level as string | undefined) ?? 'P9',
    otp_disabled: v['otp-disabled'] === true, phone_pds_matched: true, ...own,
  });
  io.out(v.json ? JSON.stringify(user) : user.email);
  return 0;
}

export async function testUsersListRemote(remote: Remote, v: Values, io: Io): Promise<number> {
  const users = (await api<TestUserView[]>(remote, 'GET', '/test-users')).filter((u) => !v.env || u.env === v.env);
  if (v.json) io.out(JSON.stringify(users));
  else if (!users.length) io.out('No test users.');
  else for (const u of users)
    io.out(`${u.env.padEnd(12)} ${u.id}  ${u.level}  ${u.nhs_number}  ${u.given_name} ${u.family_name}  ${u.email}`);
  return 0;
}

export async function testUsersDeleteRemote(remote: Remote, id: string | undefined, io: Io): Promise<number> {
  if (!id) throw new CliError('give the test user\'s id: toolkit test-users delete ID --url URL (ids: toolkit test-users list)');
  await api(remote, 'DELETE', `/test-users/${encodeURIComponent(id)}`);
  io.out('Test user deleted.');
  return 0;
}
