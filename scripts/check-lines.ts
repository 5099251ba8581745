/**
 * Lines of TypeScript within 140 characters (the project's rule; Biome's linter does not measure lines).
 * Lists file:line of each longer line under src/, bench/ and examples/ and fails if there is one.
 */
import { globSync, readFileSync } from 'node:fs';

const MAX = 140;
const long: string[] = [];
for (const file of globSync(['src/**/*.ts', 'bench/**/*.ts', 'examples/**/*.ts']).sort()) {
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const length = [...line].length;
      if (length > MAX) long.push(`${file}:${i + 1}: ${length} characters`);
    });
}
if (long.length) {
  console.error(`${long.length} lines over ${MAX} characters:\n${long.join('\n')}`);
  process.exitCode = 1;
}
