/**
 * The one schema, shared by SQLite and PostgreSQL. Times are epoch milliseconds (bigint, read back as
 * numbers on both dialects); structured values are JSON text so both dialects store them the same way.
 */
import type { Cause, ErrorCode, EventKind } from './record.ts';

export interface OidcModelTable {
  env: string;
  model: string;
  id: string;
  payload: string;
  grant_id: string | null;
  uid: string | null;
  user_code: string | null;
  expires_at: number | null;
  consumed_at: number | null;
}

export interface SigningKeyTable {
  env: string;
  kid: string;
  /** Private JWK (JSON). */
  private_jwk: string;
  /** 'next' is published in the JWKS but not used to sign; 'current' signs; 'retired' is published until removed. */
  state: 'next' | 'current' | 'retired';
  created_at: number;
  /** When the state last changed (null before it first did). */
  changed_at: number | null;
}

export interface ClientTable {
  env: string;
  client_id: string;
  name: string;
  /** oidc-provider client metadata (JSON): redirect_uris, jwks or jwks_uri, scope. */
  metadata: string;
  /** Vectors of trust the client is registered for (JSON array). */
  vtr: string;
  /** IM1 (GP system) access: may receive gp_integration_credentials. */
  im1: number;
  /** Client ids this client may single-sign-on into with asserted_login_identity (JSON array), as the NHS login team configures. */
  sso_to: string;
  /** rotate_key: the team asked the partner for a new key; the client cannot authenticate until it has one. */
  status: 'active' | 'suspended' | 'rotate_key';
  created_at: number;
  /** The partner organisation that owns the client (null for clients made with the CLI). */
  organisation_id: string | null;
  /** The armed fault sequence, JSON (storage/clients.ts FaultSequenceRecord; identity/fault-sequence.ts). */
  fault: string | null;
  /**
   * Until when (epoch ms) a conformance run may be driving this client (identity/run-marks.ts). The token and
   * userinfo endpoints look for a run's mark only while it is set, so ordinary traffic pays no lookup.
   */
  conformance_until: number | null;
  /** 1 when the NHS login team approved the client for Users Endpoint V2 (identity/users-v2). */
  users_v2: number;
  /** 1 when the NHS login team approved the client for Provision Account (identity/provision). */
  provisioning: number;
  /** The ODS codes it may provision for (JSON array), null until approved. */
  provisioning_ods: string | null;
  /** The client's session rules in seconds (identity/session-rules.ts); null = the documented 30 minutes idle, 12 hours. */
  session_idle_s: number | null;
  session_absolute_s: number | null;
  /** The page of the service the NHS App opens, with `?assertedLoginIdentity=` (identity/nhs-app); null: not set. */
  nhs_app_url: string | null;
}

/** A Provision Account request the environment accepted (identity/provision): the claiming link's state. */
export interface ProvisionRequestTable {
  id: string;
  env: string;
  client_id: string;
  organisation_id: string | null;
  ods_code: string;
  nhs_number: string;
  email: string;
  birthdate: string;
  phone_number: string;
  kind: 'create' | 'uplift';
  /** The account an uplift raises, or the one a create made once claimed. */
  person_id: string | null;
  /** SHA-256 (base64url) of the claiming link's token; the token itself is only in the email. */
  token_hash: string;
  status: 'pending' | 'claimed' | 'failed' | 'expired';
  otp_failures: number;
  created_at: number;
  expires_at: number;
  claimed_at: number | null;
}

export interface PersonTable {
  env: string;
  /** The stable `sub`. */
  id: string;
  email: string;
  password_hash: string;
  otp: string;
  /** Current level: P0, P5 or P9. */
  proofing_level: string;
  /** Highest level ever reached (the identity_proofing_level claim). */
  highest_level: string;
  nhs_number: string | null;
  given_name: string | null;
  family_name: string | null;
  birthdate: string | null;
  postcode: string | null;
  phone_number: string | null;
  gp_ods_code: string | null;
  im1: number;
  gp_user_id: string | null;
  gp_linkage_key: string | null;
  /** GP credential state (storage/gp-states.ts; migration 0028): absent on insert means `current`. */
  gp_state?: string;
  gp_state_at?: number | null;
  created_at: number;
  /** The partner organisation that created this integration test user (null for the packs' accounts). */
  organisation_id: string | null;
  /** Test-data switch: the one-time passcode step is skipped (the device counts as proven). */
  otp_disabled: number;
  /** Test-data switch: phone_number_pds_matched; null = derived from the proofing level. */
  phone_pds_matched: number | null;
  /** Test-data switch: the PDS trace in "prove your identity" finds no match. */
  pds_trace_fails: number;
}

export interface ProtocolEventTable {
  id: string;
  env: string;
  client_id: string | null;
  at: number;
  kind: EventKind;
  outcome: 'ok' | 'error';
  /** The failure's code (storage/record.ts), null when it worked. */
  error: ErrorCode | null;
  cause: Cause | null;
  /** The failure in words, as the engine or the toolkit described it; shown, never parsed. */
  description: string | null;
  correlation_id: string | null;
  person: string | null;
  details: string | null;
}

/** Small shared state that must survive restarts and be seen by every instance: rate limits, replay caches, journey state. */
export interface KvTable {
  ns: string;
  key: string;
  value: string;
  expires_at: number | null;
}

/** A journey checklist item as first ticked, with a copy of its evidence events (JSON array). */
export interface EvidenceTickTable {
  env: string;
  client_id: string;
  item_id: string;
  ticked_at: number;
  evidence: string;
}

/** A conformance run of a partner's relying party (conformance/). */
export interface ConformanceRunTable {
  id: string;
  env: string;
  client_id: string;
  organisation_id: string | null;
  start_url: string;
  /** JSON: the plan's test ids and how to drive the service (button selector, signed-in text). */
  options: string;
  status: 'running' | 'passed' | 'failed' | 'error';
  created_by: string;
  created_at: number;
  finished_at: number | null;
  /** The signed report (compact JWS) once the run has finished. */
  report: string | null;
  /** The process executing the run (host:pid:random), or that ended it; null until one claims it. */
  lease_holder: string | null;
  /** Until when (epoch ms) the holder's claim lasts unless renewed; past it, any instance ends the run. */
  lease_until: number | null;
}

export interface ConformanceResultTable {
  run_id: string;
  test_id: string;
  position: number;
  status: 'pending' | 'running' | 'pass' | 'fail' | 'could_not_run';
  detail: string | null;
  /** JSON: protocol events seen, final URL and status, what was judged. */
  evidence: string | null;
  /** PNG, base64. */
  screenshot: string | null;
  started_at: number | null;
  finished_at: number | null;
}

/** Lockout and rate-limit counters (storage/lockout.ts). */
export interface AttemptCounterTable {
  key: string;
  /** Failures (lockout) or requests (rate limits) in the window. */
  count: number;
  /** Checks under way (lockout). */
  inflight: number;
  expires_at: number;
  /** A pair that failed too often may not be checked again before this (storage/lockout.ts). */
  not_before: number | null;
  /** The checks under way (inflight) count until this time, after which they are taken to have died. */
  check_until?: number | null;
}

export interface ClientUserMetadataTable {
  env: string;
  client_id: string;
  sub: string;
  value: string;
}

export interface PartnerUserTable {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  email_confirmed_at: number | null;
  created_at: number;
}

export interface OrganisationTable {
  id: string;
  name: string;
  ods_code: string | null;
  created_at: number;
  /** The team member who looks after this partner (team_user id). */
  delivery_manager: string | null;
}

export interface MembershipTable {
  organisation_id: string;
  user_id: string;
  role: 'partner_admin' | 'developer';
  created_at: number;
}

/** Signed-in browser sessions (portal; the console later). Only a hash of the cookie value is stored. */
export interface WebSessionTable {
  id_hash: string;
  kind: 'portal' | 'console';
  user_id: string;
  csrf: string;
  created_at: number;
  last_seen_at: number;
}

/** Every email the toolkit sends, kept whether or not an SMTP server took it. */
export interface OutboxTable {
  id: string;
  to_address: string;
  subject: string;
  body: string;
  created_at: number;
  sent_at: number | null;
  error: string | null;
  /** Delivery attempts so far (failed sends are retried). */
  attempts: number;
  /** When the next attempt is due; null when none is (sent, given up, or no SMTP server to send with). */
  next_attempt_at: number | null;
  /** The claim of the instance sending it now, and until when it holds (storage/deliveries.ts). */
  claim: string | null;
  claimed_until: number | null;
}

/** A partner organisation's application to integrate (one per organisation). */
export interface ApplicationTable {
  organisation_id: string;
  /** draft -> submitted -> approved | changes_requested | rejected (the decisions are the team console's). */
  status: 'draft' | 'submitted' | 'approved' | 'changes_requested' | 'rejected';
  /** The form's answers (JSON); see onboarding/applications.ts. */
  answers: string;
  created_at: number;
  updated_at: number;
  submitted_at: number | null;
}

/** Per-organisation API tokens for /api/v1; only a hash of the token is kept. */
export interface ApiTokenTable {
  id: string;
  organisation_id: string;
  name: string;
  token_hash: string;
  created_by: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface InvitationTable {
  id: string;
  organisation_id: string;
  email: string;
  role: 'partner_admin' | 'developer';
  token_hash: string;
  invited_by: string;
  created_at: number;
  expires_at: number;
  accepted_at: number | null;
}

export interface DocumentTable {
  id: string;
  organisation_id: string;
  kind: string;
  version: number;
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
  /** base64 */
  content: string;
  uploaded_by: string;
  uploaded_at: number;
}

/** A partner's request for the next environment (integration, then live), decided by the team. */
export interface EnvironmentRequestTable {
  id: string;
  organisation_id: string;
  env: 'integration' | 'live';
  status: 'pending' | 'approved' | 'rejected' | 'changes_requested';
  requested_by: string;
  created_at: number;
  decided_at: number | null;
  /** The team's reason for its decision. */
  reason: string | null;
}

export interface GateCriterionTable {
  organisation_id: string;
  gate: string;
  criterion: string;
  met: number;
  note: string;
  recorded_by: string;
  recorded_at: number;
}

export interface CommentTable {
  id: string;
  organisation_id: string;
  author_side: 'partner' | 'team';
  author: string;
  body: string;
  created_at: number;
}

export interface NotificationTable {
  id: string;
  channel: 'webhook';
  payload: string;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  last_error: string | null;
  next_attempt_at: number;
  created_at: number;
  sent_at: number | null;
  /** The claim of the instance delivering it now, and until when it holds (storage/deliveries.ts). */
  claim: string | null;
  claimed_until: number | null;
}

/** NHS login team members (console). Password and TOTP are set through a one-time set-up link. */
export interface TeamUserTable {
  id: string;
  email: string;
  role: 'team_admin' | 'delivery_manager';
  password_hash: string | null;
  totp_secret: string | null;
  /** The last TOTP time step accepted (RFC 6238 §5.2: a code is used at most once). */
  totp_last_step: number | null;
  created_at: number;
}

/** The append-only audit trail; each entry's hash covers the previous entry's hash. */
export interface AuditTable {
  seq: number;
  at: number;
  actor: string;
  action: string;
  subject: string;
  details: string;
  prev_hash: string;
  hash: string;
}

/** The toolkit's stand-in NHS App in one environment (identity/nhs-app, migration 0031): its client and signing key. */
export interface HostAppTable {
  env: string;
  client_id: string;
  /** The private RSA key (JWK, JSON) the stand-in signs its client assertions and asserted login identities with. */
  private_jwk: string;
  created_at: number;
}

/** A passkey (WebAuthn credential) a person registered (storage/passkeys.ts, migration 0030). */
export interface PasskeyTable {
  credential_id: string;
  env: string;
  person_id: string;
  public_key: string;
  counter: number;
  transports: string;
  created_at: number;
  last_used_at: number | null;
}

/** A test user who may act for another in the stand-in NHS App (storage/proxy-links.ts, migration 0032). */
export interface ProxyLinkTable {
  env: string;
  proxy_id: string;
  patient_id: string;
  created_at: number;
}

export interface Schema {
  team_user: TeamUserTable;
  audit: AuditTable;
  environment_request: EnvironmentRequestTable;
  document: DocumentTable;
  invitation: InvitationTable;
  api_token: ApiTokenTable;
  application: ApplicationTable;
  partner_user: PartnerUserTable;
  organisation: OrganisationTable;
  membership: MembershipTable;
  web_session: WebSessionTable;
  outbox: OutboxTable;
  oidc_model: OidcModelTable;
  signing_key: SigningKeyTable;
  client: ClientTable;
  person: PersonTable;
  protocol_event: ProtocolEventTable;
  kv: KvTable;
  attempt_counter: AttemptCounterTable;
  evidence_tick: EvidenceTickTable;
  conformance_run: ConformanceRunTable;
  conformance_result: ConformanceResultTable;
  gate_criterion: GateCriterionTable;
  comment: CommentTable;
  notification: NotificationTable;
  client_user_metadata: ClientUserMetadataTable;
  provision_request: ProvisionRequestTable;
  passkey: PasskeyTable;
  host_app: HostAppTable;
  proxy_link: ProxyLinkTable;
}
