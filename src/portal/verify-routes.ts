/**
 * /portal/conformance/verify (and /conformance/verify): anyone given a conformance report, an assessor or the NHS login
 * team, pastes it or chooses its file and sees whether this toolkit signed it, unchanged, and for which client, plan and
 * result. Nothing is stored and nothing changes, so the form needs no sign-in.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ReportInvalid, type Report } from '../conformance/index.ts';
import { checkForm, formSchema, multipartForm, text } from '../web/forms.ts';
import { formFields, page, signedIn, type PortalDeps } from './context.ts';

/** A report of a long plan, evidence and all, is far over a form field's 64 KB. */
const REPORT_BYTES = 2 * 1024 * 1024;
const VERIFY = formSchema({ report: text('Signed report', REPORT_BYTES), report_file: text('Report file', REPORT_BYTES) });

/** The report as the page shows it: who it is for, the plan's tests and the outcome. */
function reportView(r: Report) {
  return {
    run: r.run,
    summary: r.summary,
    passed: r.run.status === 'passed',
    tests: r.tests,
  };
}

export function registerVerifyRoutes(app: FastifyInstance, d: PortalDeps) {
  const show = async (reply: FastifyReply, req: Parameters<typeof signedIn>[1], ctx: Record<string, unknown>, status = 200) =>
    page(d, reply, 'portal/verify.njk', {
      title: 'Check a conformance report', user: (await signedIn(d, req))?.user, publicUrl: d.config.publicUrl, ...ctx,
    }, status);

  app.get('/conformance/verify', (req, reply) => show(reply, req, {}));

  app.post('/conformance/verify', multipartForm(VERIFY), async (req, reply) => {
    const { fields, tooLarge } = await formFields(req, REPORT_BYTES, REPORT_BYTES);
    const { problems, values } = checkForm(VERIFY, fields);
    const pasted = typeof values.report === 'string' ? values.report : '';
    const file = typeof values.report_file === 'string' ? values.report_file.trim() : '';
    const refuse = (text: string, field = 'report') => show(reply, req, { errors: [{ href: `#${field}`, text, field }], pasted }, 400);
    if (problems.length) return show(reply, req, { errors: problems, pasted }, 400);
    if (tooLarge.length) return refuse('The report file must be smaller than 2 MB', 'report_file');
    const jws = file || pasted.trim();
    if (!jws) return refuse('Paste the signed report, or choose its file');
    try {
      return await show(reply, req, { report: reportView(await d.onboarding.verifyReport(jws)) });
    } catch (e) {
      if (!(e instanceof ReportInvalid)) throw e;
      const text = 'This is not a conformance report signed by this toolkit, or it has been changed since';
      return refuse(text, file ? 'report_file' : 'report');
    }
  });
}
