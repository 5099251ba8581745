/** What the faces (portal, console) show of a run: its report as a page, and the report files. */
import path from 'node:path';
import type { ConformanceResultTable, ConformanceRunTable } from '../storage/index.ts';
import { buildReport, junitXml } from './report.ts';

export const CONFORMANCE_VIEWS = path.join(import.meta.dirname, 'views');

export function runPage(run: ConformanceRunTable, results: ConformanceResultTable[]) {
  const report = buildReport(run, results);
  return { run, summary: report.summary, tests: report.tests };
}

/** The report files of a finished run: the signed JSON (compact JWS) and JUnit XML. */
/** A test's screenshot by its file name (`TEST.png`), as PNG bytes. */
export function screenshotFile(results: ConformanceResultTable[], name: string): Buffer | undefined {
  const shot = results.find((r) => `${r.test_id}.png` === name)?.screenshot;
  return shot ? Buffer.from(shot, 'base64') : undefined;
}

export function reportFile(
  run: ConformanceRunTable,
  results: ConformanceResultTable[],
  kind: string,
): { type: string; body: string } | undefined {
  if (!run.report) return undefined;
  if (kind === 'report.jws') return { type: 'application/jose; charset=utf-8', body: run.report };
  if (kind === 'report.xml') return { type: 'application/xml; charset=utf-8', body: junitXml(buildReport(run, results), results) };
  return undefined;
}
