/**
 * The five eligibility criteria for NHS login (NHS login integration process, "Apply"), each with a plain
 * explanation and the honest reason a "no" makes a service ineligible.
 */
export const CRITERIA = [
  {
    id: 'england',
    question: 'Does your service serve patients registered with a GP in England, or receiving NHS services in England?',
    explanation: 'NHS login verifies people against NHS England\'s records.',
    ineligible: 'NHS login is only for services for people registered with a GP in England or receiving NHS services in England.',
  },
  {
    id: 'patient_facing',
    question: 'Is your service used by patients or the public (not by clinicians or staff)?',
    explanation: 'NHS login is how patients prove who they are; staff use other routes, such as NHS Care Identity Service 2.',
    ineligible: 'NHS login is for patient-facing services, not for clinicians or staff.',
  },
  {
    id: 'benefit',
    question: 'Does your service give a health or social care benefit?',
    explanation: 'For example: booking, records, prescriptions, remote monitoring, care planning.',
    ineligible: 'NHS login is only for services that give a health or social care benefit.',
  },
  {
    id: 'commissioned',
    question: 'Is your service commissioned or sponsored by an NHS body or a local authority?',
    explanation:
      'Being on a procurement framework is not enough: an NHS organisation or local authority must commission or sponsor this service.',
    ineligible: 'NHS login needs a commissioning or sponsoring NHS body or local authority; being on a framework is not enough.',
  },
  {
    id: 'free',
    question: 'Is your service free at the point of use for patients?',
    explanation: 'Patients must not pay to use the service that NHS login gives access to.',
    ineligible: 'NHS login is only for services that are free at the point of use.',
  },
] as const;

export type CriterionId = (typeof CRITERIA)[number]['id'];

export interface EligibilityOutcome {
  answered: boolean;
  eligible: boolean;
  reasons: string[];
}

/** "yes" or "no" per criterion; unanswered criteria make the outcome incomplete, not ineligible. */
export function eligibility(answers: Partial<Record<string, string>>): EligibilityOutcome {
  const reasons = CRITERIA.filter((c) => answers[c.id] === 'no').map((c) => c.ineligible);
  const answered = CRITERIA.every((c) => answers[c.id] === 'yes' || answers[c.id] === 'no');
  return { answered, eligible: answered && reasons.length === 0, reasons };
}
