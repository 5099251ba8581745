#!/usr/bin/env node
// The `toolkit` command. The sources are TypeScript run by Node 24's type stripping.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  console.error(`toolkit needs Node 24 or later (this is ${process.version}); run it through npm (npx toolkit ...), which uses the project's Node 24.`);
  process.exit(2);
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
