/** The onboarding domain's errors: a closed set of codes, each tied to the form field it is about. */
export type OnboardingErrorCode =
  | 'invalid_email'
  | 'weak_password'
  | 'invalid_name'
  | 'email_taken'
  | 'bad_credentials'
  | 'code_used'
  | 'email_not_confirmed'
  | 'throttled'
  | 'busy'
  | 'invalid_link'
  | 'invalid_ods_code'
  | 'not_a_member'
  | 'not_found'
  | 'not_ready'
  | 'already_submitted'
  | 'rate_limited';

/** Several field problems found at once (a form shows them all in its error summary). */
export class FormProblems extends Error {
  override name = 'FormProblems';
  readonly problems: OnboardingError[];
  constructor(problems: OnboardingError[]) {
    super(problems.map((p) => p.message).join('; '));
    this.problems = problems;
  }
}

export class OnboardingError extends Error {
  override name = 'OnboardingError';
  readonly code: OnboardingErrorCode;
  readonly field: string | undefined;
  constructor(code: OnboardingErrorCode, message: string, field?: string) {
    super(message);
    this.code = code;
    this.field = field;
  }
}
