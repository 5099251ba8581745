/**
 * The onboarding domain as its faces use it: `createOnboarding(deps)` binds every use-case to the database, the
 * mailer and the protocol record once, so that the portal, the API, the console and the CLI call the same functions
 * and none of them holds a database handle or SQL of its own (src/web/faces-hold-no-sql.test.ts).
 */
import type { Config } from '../config/index.ts';
import type { PeopleData } from '../identity/people/index.ts';
import {
  addFault, armFault, armFaults, clearFaults, replaceClientKey, setNhsAppAddress, setSessionRules, type ClientRegistration,
} from '../identity/index.ts';
import { getRun, reportKeys, verifyReport } from '../conformance/index.ts';
import {
  countRequest, findOrganisationClient, getClient, listClients, type ClientRecord, type Db, type EventSink,
} from '../storage/index.ts';
import { authenticate, confirmEmail, continueSignIn, requestPasswordReset, resetPassword, signUp, type AccountDeps } from './accounts.ts';
import { actorForToken, createApiToken, listApiTokens, revokeApiToken } from './api-tokens.ts';
import { getApplication, saveDraft, submitApplication } from './applications.ts';
import { auditEntries, verifyAudit } from './audit.ts';
import { readableAudit } from './audit-text.ts';
import { approveClient, setClientStatus, setSsoPairs } from './client-admin.ts';
import { registerOrganisationClient, type ClientRegistered, type Registrant } from './clients.ts';
import { addComment, comments } from './comments.ts';
import { seedDemo } from './demo.ts';
import { getDocument, listDocuments, uploadDocument } from './documents.ts';
import { evidenceEvent, journeyChecklist } from './evidence.ts';
import { readableEvent } from './event-text.ts';
import { decideGate, gateView, recordCriterion } from './gates.ts';
import * as lookups from './lookups.ts';
import { mailboxMessage, mailboxMessages } from './mailbox.ts';
import { outbox, type Mailer } from './mailer.ts';
import {
  acceptInvitation, changeRole, createInvitedOrganisation, invite, membersOf, pendingInvitations, removeMember, revokeInvitation,
} from './members.ts';
import { environmentMetrics, onboardingMetrics } from './metrics.ts';
import { notifications, notifyDeps, type NotifyDeps } from './notify.ts';
import { createOrganisation, findOrganisation, organisationsOf, requireMembership, updateOrganisation } from './organisations.ts';
import { pipeline } from './pipeline.ts';
import { clientChoices, environmentReadiness, latestRequest, requestEnvironment } from './requests.ts';
import { requestTrace } from './trace.ts';
import { endSession, findSession, startSession } from './sessions.ts';
import { latestDecision, partnerStatus } from './status.ts';
import {
  addTeamMember, assignDeliveryManager, authenticateTeam, changeTeamMember, completeSetup, createTeamAdmin, rememberBrowser, setupDetails,
  teamMembers,
} from './team.ts';
import { createTestUser, deleteTestUser, listTestUsers, updateTestUser } from './test-users.ts';
import { setTestUserGpState } from './test-user-gp.ts';
import { setTestUserProxy, testUserPatients } from './test-user-proxy.ts';

export interface OnboardingDeps {
  db: Db;
  config: Pick<Config, 'publicUrl' | 'chatWebhookUrl'>;
  /** The protocol record; the CLI's commands other than `demo seed` have none. */
  events?: EventSink | undefined;
  /** Partners' mail; the CLI sends none. */
  mailer?: Mailer | undefined;
  /** The environments' test PDS and GP-linkage records, for partners' test users; the CLI has none. */
  people?: PeopleData | undefined;
}

type WithDb<T> = { [K in keyof T]: T[K] extends (db: Db, ...args: infer A) => infer R ? (...args: A) => R : never };

/** Each function of `fns` with its first argument, the database, given. */
function withDb<T extends Record<string, (db: Db, ...args: never[]) => unknown>>(db: Db, fns: T): WithDb<T> {
  return Object.fromEntries(Object.entries(fns).map(([name, f]) => [name, (...args: never[]) => f(db, ...args)])) as WithDb<T>;
}

/** A dependency the caller's face did not give: a wiring mistake, reported as one. */
function given<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`onboarding was created without ${what}`);
  return value;
}

export function createOnboarding(deps: OnboardingDeps) {
  const { db } = deps;
  const accounts = (): AccountDeps => ({ db, mailer: given(deps.mailer, 'a mailer'), publicUrl: deps.config.publicUrl });
  const notifying = (): NotifyDeps => notifyDeps({ db, mailer: given(deps.mailer, 'a mailer'), config: deps.config });
  const events = () => given(deps.events, 'the protocol record');
  // The operator's registration is never refused before the environments' checks: its answer is the client alone.
  function registerClient(by: 'operator', r: ClientRegistration): Promise<{ client: ClientRecord }>;
  function registerClient(by: Registrant, r: ClientRegistration): Promise<ClientRegistered>;
  function registerClient(by: Registrant, r: ClientRegistration) {
    return registerOrganisationClient(db, by, r);
  }
  return {
    ...withDb(db, lookups),
    // Partner accounts and web sessions (portal and console alike).
    ...withDb(db, { findSession, startSession, endSession, countRequest }),
    signUp: (...a: Tail<typeof signUp>) => signUp(accounts(), ...a),
    confirmEmail: (...a: Tail<typeof confirmEmail>) => confirmEmail(accounts(), ...a),
    authenticate: (...a: Tail<typeof authenticate>) => authenticate(accounts(), ...a),
    continueSignIn: (...a: Tail<typeof continueSignIn>) => continueSignIn(accounts(), ...a),
    requestPasswordReset: (...a: Tail<typeof requestPasswordReset>) => requestPasswordReset(accounts(), ...a),
    resetPassword: (...a: Tail<typeof resetPassword>) => resetPassword(accounts(), ...a),
    // Organisations, their members and API tokens.
    ...withDb(db, { createOrganisation, findOrganisation, organisationsOf, requireMembership, updateOrganisation }),
    ...withDb(db, { acceptInvitation, changeRole, membersOf, pendingInvitations, removeMember, revokeInvitation }),
    ...withDb(db, { createInvitedOrganisation }),
    invite: (...a: Tail<typeof invite>) => invite(accounts(), ...a),
    ...withDb(db, { actorForToken, createApiToken, listApiTokens, revokeApiToken }),
    // The application, documents, environment requests and where the partner stands.
    ...withDb(db, { getApplication, saveDraft, submitApplication, getDocument, listDocuments, uploadDocument }),
    ...withDb(db, { clientChoices, environmentReadiness, latestRequest, requestEnvironment, latestDecision, partnerStatus }),
    // Clients: registration (one rule for every face), keys, faults, the evidence of their journeys.
    registerClient,
    ...withDb(db, { findOrganisationClient, getClient, listClients, replaceClientKey }),
    ...withDb(db, { addFault, armFault, armFaults, clearFaults }),
    ...withDb(db, { setSessionRules, setNhsAppAddress }),
    ...withDb(db, { evidenceEvent, journeyChecklist, readableEvent, requestTrace }),
    /** Before a read of the protocol record: what this instance just recorded is written, so the page shows it. */
    flushEvents: () => events().flush(),
    ...withDb(db, { getRun, reportKeys, verifyReport }),
    createTestUser: (...a: Tail<Tail<typeof createTestUser>>) => createTestUser(db, given(deps.people, 'the test people'), ...a),
    ...withDb(db, { listTestUsers, updateTestUser, deleteTestUser, setTestUserProxy, testUserPatients }),
    setTestUserGpState: (...a: Tail<Tail<typeof setTestUserGpState>>) => setTestUserGpState(db, events(), ...a),
    // Conversations and notifications.
    ...withDb(db, { comments, mailboxMessage, mailboxMessages, outbox, notifications }),
    addComment: (...a: Tail<typeof addComment>) => addComment(notifying(), ...a),
    // The NHS login team: its members, the gates, client administration, the audit trail and metrics.
    ...withDb(db, { addTeamMember, assignDeliveryManager, authenticateTeam, changeTeamMember, rememberBrowser, teamMembers }),
    ...withDb(db, { completeSetup, createTeamAdmin, setupDetails }),
    ...withDb(db, { gateView, recordCriterion, approveClient, setSsoPairs, pipeline, environmentMetrics, onboardingMetrics }),
    decideGate: (...a: Tail<typeof decideGate>) => decideGate(notifying(), ...a),
    setClientStatus: (...a: Tail<typeof setClientStatus>) => setClientStatus(notifying(), ...a),
    ...withDb(db, { auditEntries, verifyAudit, readableAudit }),
    seedDemo: (now?: number) => seedDemo(db, events(), now),
  };
}

/** A function's parameters after the first (or a parameter list's after its first). */
type Tail<F> = F extends (first: never, ...rest: infer A) => unknown ? A : F extends [unknown, ...infer A] ? A : never;

export type Onboarding = ReturnType<typeof createOnboarding>;
