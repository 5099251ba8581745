/** The conformance suite: plans, the browser driver, judging, runs and signed reports. */
export { CATALOGUE, planFor, PlanError, testIssuersOf, type TestSpec } from './plan.ts';
export { createRun, executeRun, getRun, endLapsedRuns, RunLost, RunRefused, type EngineDeps, type RunInput } from './engine.ts';
export { buildReport, junitXml, reportKeys, ReportInvalid, verifyReport, verifyReportWith, type Report } from './report.ts';
export { createRunScheduler, type RunScheduler } from './scheduler.ts';
export { refusedToRunBrowser } from './browsing.ts';
export { CONFORMANCE_VIEWS, reportFile, runPage, screenshotFile } from './view-model.ts';
export { checkServer, ServerMismatch } from './preflight.ts';
