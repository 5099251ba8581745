/**
 * Faces hold no SQL: the portal, the console, the API, the CLI and the web shell reach the database only through the
 * domain's use-cases (onboarding's createOnboarding, identity's and conformance's own functions). A face file that
 * imports src/storage or builds a Kysely query fails here. (The other arrows of the import graph are tested apart.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const SRC = path.join(import.meta.dirname, '..');
const FACES = ['portal', 'console', 'api', 'cli', 'web'];

/**
 * The composition roots open the database and the protocol record and hand them to the domain: only these names of
 * src/storage, and still no query of their own.
 */
const ROOTS: Record<string, string[]> = {
  'web/app.ts': ['createEventSink', 'openDatabase', 'purgeExpired', 'Database', 'EventSink'],
  'cli/main.ts': ['createEventSink', 'openDatabase'],
};

// Tests of a face may prepare rows directly; what they test may not.
const faceFiles = FACES.flatMap((face) => fs.readdirSync(path.join(SRC, face), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => `${face}/${f.split(path.sep).join('/')}`));

const STORAGE_IMPORT = /import\s+(?:type\s+)?(?:\{([^}]*)\}|[\w*\s]+)\s+from\s+'([^']*\/storage\/[^']*)'/g;
const STORAGE_PATH = /['"][^'"\n]*\/storage\/[^'"\n]*['"]/g;
const QUERY = new RegExp([
  /\.(?:selectFrom|insertInto|updateTable|deleteFrom|replaceInto|mergeInto|selectNoFrom)\s*\(/.source,
  /\bsql\s*(?:<[^>]*>)?\s*`/.source, /\bsql\.(?:raw|ref|table|id|lit|join)\b/.source, /from\s+'kysely'/.source,
].join('|'));

/** What in one face file breaks the rule, each as `file:line: reason`. */
function violations(file: string, text: string): string[] {
  const found: string[] = [];
  const lineOf = (index: number) => text.slice(0, index).split('\n').length;
  const imports = [...text.matchAll(STORAGE_IMPORT)];
  // A re-export, a dynamic import or a bare import reaches storage as surely as a named one.
  if ([...text.matchAll(STORAGE_PATH)].length > imports.length) found.push(`${file}: reaches src/storage other than by a named import`);
  for (const m of imports) {
    const allowed = ROOTS[file];
    const names = (m[1] ?? '*').split(',').map((n) => n.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]!).filter(Boolean);
    const extra = allowed ? names.filter((n) => !allowed.includes(n)) : names;
    if (extra.length) found.push(`${file}:${lineOf(m.index)}: imports ${extra.join(', ')} from ${m[2]}`);
  }
  text.split('\n').forEach((line, i) => {
    if (QUERY.test(line)) found.push(`${file}:${i + 1}: a query of its own: ${line.trim().slice(0, 100)}`);
  });
  return found;
}

test('the check sees a storage import and a query builder', () => {
  assert.equal(violations('portal/x.ts', "import type { Db } from '../storage/index.ts';\n").length, 1);
  assert.equal(violations('portal/x.ts', "const u = await d.db.selectFrom('partner_user').selectAll().execute();\n").length, 1);
  assert.equal(violations('api/x.ts', 'await sql`select 1`.execute(db);\n').length, 1);
  assert.equal(violations('console/x.ts', "export { getClient } from '../storage/clients.ts';\n").length, 1);
  assert.equal(violations('cli/x.ts', "const s = await import('../storage/index.ts');\n").length, 1);
  assert.equal(violations('web/app.ts', "import { openDatabase, listClients } from '../storage/index.ts';\n").length, 1);
  assert.deepEqual(violations('web/app.ts', "import { openDatabase, type Database } from '../storage/index.ts';\n"), []);
});

test('faces hold no SQL: no face file imports src/storage (beyond the composition roots) or builds a query', () => {
  assert.ok(faceFiles.includes('portal/client-routes.ts') && faceFiles.includes('cli/main.ts'), 'the face files were found');
  const found = faceFiles.flatMap((f) => violations(f, fs.readFileSync(path.join(SRC, f), 'utf8')));
  assert.deepEqual(found, [], 'faces call the use-cases of src/onboarding (createOnboarding) instead');
});
