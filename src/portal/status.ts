/**
 * The status panel of the partner's dashboard: the onboarding domain's view of where the partner stands
 * (onboarding/status.ts), with each missing item linked to the portal page where it is put right.
 */
import { EVIDENCE_ENV, type Criterion, type Gate, type Onboarding, type PartnerStatus } from '../onboarding/index.ts';

export interface Fix {
  href: string;
  text: string;
}

/** The page that puts a gate's criterion right (criterion ids: onboarding/readiness.ts). */
export function fixFor(orgId: string, criterion: string, clients: { env: string }[]): Fix {
  const org = `/portal/organisations/${orgId}`;
  if (['submitted', 'eligible', 'application'].includes(criterion)) return { href: `${org}/application`, text: 'Your application' };
  if (criterion === 'ods_code') return { href: `${org}/edit`, text: 'Organisation details' };
  if (criterion.startsWith('document_')) return { href: `${org}/documents`, text: 'Documents' };
  if (criterion === 'integration') return { href: `${org}/request-integration`, text: 'Request the integration environment' };
  if (criterion === 'sandpit') {
    return clients.some((c) => c.env === EVIDENCE_ENV.integration)
      ? { href: `#clients-${orgId}`, text: 'Your clients\' journey checklists' }
      : { href: `${org}/clients/new`, text: 'Register a sandpit client' };
  }
  if (criterion === 'conformance') {
    return clients.some((c) => c.env === EVIDENCE_ENV.go_live)
      ? { href: `#clients-${orgId}`, text: 'Run the conformance tests from your integration client' }
      : { href: `${org}/clients/new?env=integration`, text: 'Register an integration client' };
  }
  return { href: org, text: 'Your integration' };
}

/** Where each gate is seen in the portal. */
export const GATE_PAGES: Record<Gate, { path: string; text: string }> = {
  application: { path: 'application', text: 'Your application' },
  integration: { path: 'request-integration', text: 'Integration request' },
  go_live: { path: 'request-go-live', text: 'Go-live request' },
};

export type StatusPanel = Omit<PartnerStatus, 'next'> & {
  next: (Omit<NonNullable<PartnerStatus['next']>, 'missing'> & { missing: (Criterion & { fix: Fix })[]; request: Fix }) | null;
  pages: typeof GATE_PAGES;
};

export async function statusPanel(onboarding: Onboarding, orgId: string, clients: { env: string }[]): Promise<StatusPanel> {
  const s = await onboarding.partnerStatus(orgId);
  const next = s.next && {
    ...s.next,
    missing: s.next.missing.map((c) => ({ ...c, fix: fixFor(orgId, c.id, clients) })),
    request: {
      href: `/portal/organisations/${orgId}/${GATE_PAGES[s.next.gate].path}`,
      text: s.next.gate === 'go_live' ? 'Request to go live' : 'Request the integration environment',
    },
  };
  return { ...s, next, pages: GATE_PAGES };
}
