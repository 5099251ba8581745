/** Server-rendered pages: Nunjucks with the NHS design system's own macros (nhsuk-frontend). */
import path from 'node:path';
import { createRequire } from 'node:module';
import nunjucks from 'nunjucks';

const require = createRequire(import.meta.url);
export const NHSUK_DIST = path.join(path.dirname(require.resolve('nhsuk-frontend/package.json')), 'dist');
export const ASSET_PREFIX = '/nhsuk-frontend';
/**
 * nhsuk-frontend 10 no longer starts its components by itself: a page must call initAll() (header menu, error
 * summary focus, character counts...). An external same-origin module, so a strict CSP needs no inline script.
 */
export const INIT_SCRIPT_PATH = `${ASSET_PREFIX}-init.js`;
export const INIT_SCRIPT = `import { initAll } from '${ASSET_PREFIX}/nhsuk/nhsuk-frontend.min.js';\ninitAll();\n`;
/** The few rules the design system has no class for, as a file too: the CSP refuses inline styles and style attributes. */
export const STYLESHEET_PATH = '/toolkit.css';
export const STYLESHEET = [
  '.toolkit-board-column{box-sizing:border-box;width:20%;float:left;padding:0 8px}',
  // Five columns do not fit a phone: one stage under the other below the design system's tablet width (641 px).
  '@media (max-width:40.0525em){.toolkit-board-column{width:100%;float:none}}',
  // URLs, client ids and tokens are single words: let them break rather than push the page sideways (in tables
  // too, where only "anywhere" lets a column be narrower than its longest word).
  'body{overflow-wrap:break-word}',
  'td code,dd code,p code,li code,.toolkit-wrap{overflow-wrap:anywhere}',
  // Mail and chat as written (line breaks kept), wrapped to the column.
  '.toolkit-pre{white-space:pre-wrap;overflow-wrap:anywhere}',
  // Preformatted text (a discovery document) and, on a phone, a table of many columns scroll inside their own box,
  // as the design system's table container does, instead of the whole page scrolling sideways.
  'pre{max-width:100%;overflow-x:auto}',
  '@media (max-width:40.0525em){.nhsuk-table:not(.nhsuk-table--responsive){display:block;overflow-x:auto}}',
  // A responsive table whose cells hold paragraphs (the conformance results): on a phone each cell's heading goes
  // above its text, left-aligned, rather than beside it.
  '@media (max-width:40.0525em){.toolkit-stacked .nhsuk-table__body .nhsuk-table__cell{display:block;text-align:left}'
    + '.toolkit-stacked .nhsuk-table-responsive__heading{display:block;padding-bottom:4px}}',
  // Bar charts (console/charts.ts): a label column and, beside it or below it on a phone, the bar and its value.
  '.toolkit-chart{margin:0 0 24px}',
  '.toolkit-chart__row{display:flex;flex-wrap:wrap;margin-bottom:12px}',
  '.toolkit-chart__label{box-sizing:border-box;flex:0 0 14em;padding-right:16px}',
  '.toolkit-chart__value{flex:1 1 16em;min-width:0;margin:0}',
  '.toolkit-chart__bar{display:block;margin:2px 0}',
].join('\n') + '\n';

export type Render = (view: string, context?: Record<string, unknown>) => string;

export function createRenderer(viewDirs: string[]): Render {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader([...viewDirs, path.join(import.meta.dirname, 'views'), NHSUK_DIST]), {
    autoescape: true,
    throwOnUndefined: false,
  });
  env.addGlobal('assetPrefix', ASSET_PREFIX);
  env.addGlobal('initScript', INIT_SCRIPT_PATH);
  env.addGlobal('stylesheet', STYLESHEET_PATH);
  // A plain string, '' when the field has no error: a macro would return markup, which is truthy even when
  // empty, and every field would then show an (empty) error message.
  env.addGlobal('errorFor', (errors: { field?: string; href?: string; text: string }[] | undefined, field: string) =>
    (errors ?? []).find((e) => e.field === field || e.href === `#${field}`)?.text ?? '');
  env.addFilter('date', (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC');
  return (view, context = {}) => env.render(view, context);
}
