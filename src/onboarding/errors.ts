/** The onboarding domain's errors: codes of the toolkit's one table (src/errors.ts), each tied to the form field it is about. */
import { ToolkitError, type ErrorCode } from '../errors.ts';

export type OnboardingErrorCode = ErrorCode;

export class OnboardingError extends ToolkitError {
  override name = 'OnboardingError';
}

/** Several field problems found at once (a form shows them all in its error summary); its code is the first one's. */
export class FormProblems extends ToolkitError {
  override name = 'FormProblems';
  readonly problems: OnboardingError[];
  constructor(problems: OnboardingError[]) {
    super(problems[0]?.code ?? 'invalid_request', problems.map((p) => p.message).join('; '), problems[0]?.field);
    this.problems = problems;
  }
}
