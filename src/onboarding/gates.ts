/**
 * The application gate (Partner Integration Board review): a delivery manager or team admin approves,
 * rejects or requests changes, always with a reason; the decision is audited and the partner is told.
 */
import type { Db } from '../storage/index.ts';
import { appendAudit } from './audit.ts';
import { getApplication } from './applications.ts';
import { OnboardingError } from './errors.ts';
import type { Mailer } from './mailer.ts';
import { membersOf } from './members.ts';

export const DECISIONS = { approve: 'approved', reject: 'rejected', request_changes: 'changes_requested' } as const;
export type Decision = keyof typeof DECISIONS;

export async function decideApplication(
  d: { db: Db; mailer: Mailer; publicUrl: string },
  decider: { email: string },
  organisationId: string,
  decision: string,
  reasonRaw: string,
): Promise<void> {
  if (!(decision in DECISIONS)) throw new OnboardingError('invalid_name', 'Choose approve, reject or request changes', 'decision');
  const reason = reasonRaw.trim();
  if (!reason || reason.length > 2000) throw new OnboardingError('invalid_name', 'Give the reason for the decision (the partner will see it)', 'reason');
  const application = await getApplication(d.db, organisationId);
  if (application.status !== 'submitted') throw new OnboardingError('not_found', 'Only a submitted application can be decided');
  const status = DECISIONS[decision as Decision];
  await d.db.updateTable('application').set({ status, updated_at: Date.now() }).where('organisation_id', '=', organisationId).where('status', '=', 'submitted').execute();
  await appendAudit(d.db, { actor: decider.email, action: `application.${decision}`, subject: organisationId, details: { reason } });
  const org = await d.db.selectFrom('organisation').select('name').where('id', '=', organisationId).executeTakeFirstOrThrow();
  const words = { approve: 'has been approved', reject: 'has not been approved', request_changes: 'needs changes' }[decision as Decision];
  for (const m of await membersOf(d.db, organisationId)) {
    await d.mailer.send({
      to: m.email,
      subject: `Your NHS login application ${words}`,
      body: `The NHS login team's decision on ${org.name}'s application: it ${words}.\n\nReason: ${reason}\n\nSee it in the portal: ${d.publicUrl}/portal/organisations/${organisationId}/application\n`,
    });
  }
}
