/**
 * The import graph of src/ against ARCHITECTURE.md: every import of a module's code (tests aside) points along an
 * arrow the page allows. Imports are read from the source (`import … from`, `export … from`, `import '…'` and
 * `import('…')`); a relative one is resolved to the module it reaches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import path from 'node:path';

type Module =
  | 'root'
  | 'portal'
  | 'console'
  | 'api'
  | 'cli'
  | 'web'
  | 'onboarding'
  | 'identity'
  | 'conformance'
  | 'observability'
  | 'storage'
  | 'security'
  | 'config'
  | 'test-support'
  | 'reliability';

const FACES: Module[] = ['portal', 'console', 'api', 'cli'];
const BELOW_FACES: Module[] = ['onboarding', 'identity', 'conformance', 'observability', 'web', 'security', 'config'];

/** What each module may import besides itself (ARCHITECTURE.md, "The arrows that may exist"). */
const ALLOWED: Record<Module, Module[] | 'anything'> = {
  root: 'anything',
  'test-support': 'anything',
  reliability: 'anything',
  portal: BELOW_FACES,
  console: BELOW_FACES,
  api: BELOW_FACES,
  cli: BELOW_FACES,
  onboarding: ['identity', 'conformance', 'observability', 'storage', 'web', 'security', 'config'],
  conformance: ['identity', 'observability', 'storage', 'web', 'security', 'config'],
  identity: ['storage', 'web', 'security', 'config'],
  observability: ['storage', 'security', 'config'],
  web: ['security', 'config'],
  storage: ['config'],
  security: ['config'],
  config: [],
};

/**
 * Faces importing storage: issue 14 #4 removed all but the CLI's composition root (the faces ask the domain instead).
 * An entry that is no longer needed fails the second test, so the list only shrinks: delete the entry with the import.
 */
const KNOWN_EXCEPTIONS = new Set([
  // The CLI's composition root: it opens the database and the protocol record and hands them to createOnboarding and to
  // identity's and conformance's functions, as web/app.ts does for the server (it builds no query: faces-hold-no-sql.test.ts).
  'src/cli/main.ts → ../storage/index.ts',
]);

const SRC = path.join(import.meta.dirname);
const ROOT_FILES = new Set(['main.ts', 'web/app.ts', 'web/headers.ts', 'web/shutdown.ts']);

/** The module a file of src/ belongs to (its path relative to src/). */
function moduleOf(file: string): Module {
  const rel = file.split(path.sep).join('/');
  if (ROOT_FILES.has(rel)) return 'root';
  const top = rel.split('/')[0]!;
  if (!(top in ALLOWED)) throw new Error(`${rel} is in no module of ARCHITECTURE.md`);
  return top as Module;
}

const IMPORT = /^\s*(?:import|export)\b[^;]*?\bfrom\s*(['"])([^'"]+)\1|^\s*import\s*(['"])([^'"]+)\3|\bimport\(\s*(['"])([^'"]+)\5\s*\)/gm;

/** The relative imports of one source text, as written. */
function importsOf(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(IMPORT)) {
    const specifier = m[2] ?? m[4] ?? m[6]!;
    if (specifier.startsWith('.')) found.push(specifier);
  }
  return found;
}

/** Every import of src/ (tests aside) that no arrow allows, as `src/file → specifier`. */
function forbiddenImports(): string[] {
  const forbidden = new Set<string>();
  for (const file of globSync('**/*.ts', { cwd: SRC }).sort()) {
    if (file.endsWith('.test.ts')) continue;
    const from = moduleOf(file);
    const allowed = ALLOWED[from];
    if (allowed === 'anything') continue;
    for (const specifier of importsOf(readFileSync(path.join(SRC, file), 'utf8'))) {
      const target = path.relative(SRC, path.resolve(SRC, path.dirname(file), specifier));
      if (target.startsWith('..')) {
        forbidden.add(`src/${file} → ${specifier} (outside src/)`);
        continue;
      }
      const to = moduleOf(target);
      if (to !== from && !allowed.includes(to)) forbidden.add(`src/${file} → ${specifier}`);
    }
  }
  return [...forbidden];
}

test('every import of src/ points along an arrow ARCHITECTURE.md allows', () => {
  const unexpected = forbiddenImports().filter((f) => !KNOWN_EXCEPTIONS.has(f));
  assert.deepEqual(unexpected, [], `imports ARCHITECTURE.md forbids:\n${unexpected.join('\n')}`);
});

test('each known exception is still needed (the list only shrinks)', () => {
  const forbidden = new Set(forbiddenImports());
  const stale = [...KNOWN_EXCEPTIONS].filter((e) => !forbidden.has(e));
  assert.deepEqual(stale, [], `no longer needed: delete them from KNOWN_EXCEPTIONS:\n${stale.join('\n')}`);
});

test('the imports are read in every form', () => {
  const source = [
    "import { a } from '../storage/index.ts';",
    'import type { B } from "../web/views.ts";',
    "import {\n  c,\n  d,\n} from './c.ts';",
    "export * from './e.ts';",
    "export { f } from '../f.ts';",
    "import './side-effect.ts';",
    "const g = await import('../g.ts');",
    "import { h } from 'node:fs';",
    "// import { i } from '../not-an-import.ts';",
  ].join('\n');
  assert.deepEqual(importsOf(source), [
    '../storage/index.ts',
    '../web/views.ts',
    './c.ts',
    './e.ts',
    '../f.ts',
    './side-effect.ts',
    '../g.ts',
  ]);
  assert.equal(moduleOf('web/app.ts'), 'root');
  assert.equal(moduleOf('web/forms.ts'), 'web');
  assert.equal(moduleOf('identity/journeys/otp.ts'), 'identity');
  assert.deepEqual(FACES.map((f) => ALLOWED[f] !== 'anything' && ALLOWED[f].includes('storage')), [false, false, false, false]);
});
