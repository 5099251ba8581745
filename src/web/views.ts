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
export const STYLESHEET = '.toolkit-board-column{box-sizing:border-box;width:20%;float:left;padding:0 8px}\n';

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
