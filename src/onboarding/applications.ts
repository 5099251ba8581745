/**
 * The application to integrate: saved as a draft as often as the partner likes, submitted once for the
 * team's review. Submission checks every answer and reports all the problems at once.
 */
import type { Db } from '../storage/index.ts';
import { SCOPES } from '../identity/claims.ts';
import { SUPPORTED_VECTORS } from '../identity/vectors.ts';
import { CRITERIA, eligibility } from './eligibility.ts';
import { OnboardingError } from './errors.ts';
import { isEmailAddress } from '../security/email.ts';

export interface ApplicationAnswers {
  eligibility: Partial<Record<string, string>>;
  product_name?: string;
  description?: string;
  sponsor?: string;
  vectors?: string[];
  scopes?: string[];
  /** Why the service needs each scope. */
  scope_reasons?: Record<string, string>;
  contact_name?: string;
  contact_email?: string;
  safety_officer_email?: string;
}

export interface Application {
  organisationId: string;
  status: 'draft' | 'submitted' | 'approved' | 'changes_requested' | 'rejected';
  answers: ApplicationAnswers;
  submittedAt: number | null;
}

export interface FieldProblem {
  field: string;
  message: string;
}

export class ApplicationInvalid extends Error {
  override name = 'ApplicationInvalid';
  readonly problems: FieldProblem[];
  constructor(problems: FieldProblem[]) {
    super(problems.map((p) => p.message).join('; '));
    this.problems = problems;
  }
}

const LIMITS: Record<string, number> = { product_name: 120, description: 4000, sponsor: 200, contact_name: 120 };

export async function getApplication(db: Db, organisationId: string): Promise<Application> {
  const row = await db.selectFrom('application').selectAll().where('organisation_id', '=', organisationId).executeTakeFirst();
  if (!row) return { organisationId, status: 'draft', answers: { eligibility: {} }, submittedAt: null };
  return { organisationId, status: row.status, answers: JSON.parse(row.answers) as ApplicationAnswers, submittedAt: row.submitted_at };
}

/** Keeps only known fields of the right shape, so nothing hostile is stored. */
export function cleanAnswers(raw: ApplicationAnswers): ApplicationAnswers {
  const text = (v: unknown, max: number) => (typeof v === 'string' ? v.trim().slice(0, max) : undefined);
  // Input can be hostile JSON (the API): anything of the wrong shape counts as unanswered.
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const scopes = [...new Set(list(raw.scopes))].filter((s) => (SCOPES as readonly string[]).includes(s) && s !== 'openid');
  return {
    eligibility: Object.fromEntries(
      CRITERIA.map((c) => [c.id, raw.eligibility?.[c.id] === 'yes' ? 'yes' : raw.eligibility?.[c.id] === 'no' ? 'no' : '']),
    ),
    product_name: text(raw.product_name, LIMITS.product_name!),
    description: text(raw.description, LIMITS.description!),
    sponsor: text(raw.sponsor, LIMITS.sponsor!),
    vectors: [...new Set(list(raw.vectors))].filter((v) => (SUPPORTED_VECTORS as readonly string[]).includes(v)),
    scopes,
    scope_reasons: Object.fromEntries(
      scopes.map((s) => [s, text((raw.scope_reasons as Record<string, unknown> | undefined)?.[s], 500) ?? '']),
    ),
    contact_name: text(raw.contact_name, LIMITS.contact_name!),
    contact_email: text(raw.contact_email, 254),
    safety_officer_email: text(raw.safety_officer_email, 254),
  };
}

export function problemsWith(a: ApplicationAnswers): FieldProblem[] {
  const p: FieldProblem[] = [];
  for (const c of CRITERIA) if (!a.eligibility[c.id]) p.push({ field: `eligibility-${c.id}`, message: `Answer: ${c.question}` });
  const e = eligibility(a.eligibility);
  if (e.answered && !e.eligible) p.push({ field: 'eligibility-outcome', message: `Your service is not eligible: ${e.reasons.join(' ')}` });
  if (!a.product_name) p.push({ field: 'product_name', message: 'Enter the name of your product or service' });
  if (!a.description || a.description.length < 40)
    p.push({ field: 'description', message: 'Describe your service and who uses it in at least 40 characters' });
  if (!a.sponsor) p.push({ field: 'sponsor', message: 'Enter the NHS body or local authority that commissions or sponsors your service' });
  if (!a.vectors?.length) p.push({ field: 'vectors', message: 'Choose at least one vector of trust' });
  for (const s of a.scopes ?? [])
    if (!a.scope_reasons?.[s]) p.push({ field: `reason-${s}`, message: `Say why your service needs the ${s} scope` });
  if (!a.contact_name) p.push({ field: 'contact_name', message: 'Enter a contact name' });
  if (!a.contact_email || !isEmailAddress(a.contact_email))
    p.push({ field: 'contact_email', message: 'Enter a contact email address, like name@example.com' });
  if (!a.safety_officer_email || !isEmailAddress(a.safety_officer_email))
    p.push({ field: 'safety_officer_email', message: "Enter your clinical safety officer's email address" });
  return p;
}

async function write(db: Db, organisationId: string, answers: ApplicationAnswers, status: Application['status']) {
  const now = Date.now();
  const row = { status, answers: JSON.stringify(answers), updated_at: now, submitted_at: status === 'submitted' ? now : null };
  await db
    .insertInto('application')
    .values({ organisation_id: organisationId, created_at: now, ...row })
    .onConflict((oc) => oc.column('organisation_id').doUpdateSet(row))
    .execute();
}

export async function saveDraft(db: Db, organisationId: string, raw: ApplicationAnswers): Promise<Application> {
  const current = await getApplication(db, organisationId);
  if (current.status !== 'draft' && current.status !== 'changes_requested')
    throw new OnboardingError('already_submitted', 'This application has been submitted: the NHS login team is reviewing it');
  const answers = cleanAnswers(raw);
  await write(db, organisationId, answers, current.status); // a "changes requested" application stays so until resubmitted
  return { ...current, answers };
}

export async function submitApplication(db: Db, organisationId: string, raw: ApplicationAnswers): Promise<Application> {
  const current = await getApplication(db, organisationId);
  if (current.status !== 'draft' && current.status !== 'changes_requested')
    throw new OnboardingError('already_submitted', 'This application has already been submitted');
  const answers = cleanAnswers(raw);
  const problems = problemsWith(answers);
  if (problems.length) {
    await write(db, organisationId, answers, current.status); // keep what they typed
    throw new ApplicationInvalid(problems);
  }
  await write(db, organisationId, answers, 'submitted');
  return { organisationId, status: 'submitted', answers, submittedAt: Date.now() };
}
