/**
 * The toolkit's errors on a page (portal and console): the error summary entry, pointing at the field the
 * error is about, and the status the page answers — by the error's code alone (src/errors.ts).
 */
import type { ToolkitError } from '../errors.ts';

export interface ErrorItem {
  href: string;
  text: string;
  field: string | undefined;
}

/**
 * What a form shown again with its error summary answers: the code's status, but 400 for a conflict (409), as
 * for any other answer the person changes (an address already registered, a request not ready, the last admin).
 * A page that only says what went wrong (no form) answers `e.status` itself.
 */
export function formStatus(e: ToolkitError): number {
  return e.status === 409 ? 400 : e.status;
}

/**
 * The summary entries and status for a form: every problem when the error carries several (a sign-up, a
 * registration), else the one. `field` names the page's own anchor for the error instead of the error's field;
 * `fallback` is the anchor when the error names no field.
 */
export function formError(e: ToolkitError, at: { field?: string; fallback?: string } = {}): { status: number; errors: ErrorItem[] } {
  const several = (e as { problems?: unknown }).problems;
  const problems = Array.isArray(several) && several.length ? (several as { field?: string | undefined; message: string }[]) : [e];
  const errors = problems.map((p) => {
    const field = at.field ?? p.field ?? at.fallback;
    return { href: `#${field ?? 'main'}`, text: p.message, field };
  });
  return { status: formStatus(e), errors };
}
