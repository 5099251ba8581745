#!/usr/bin/env node
// The `toolkit` command. The sources are TypeScript run by Node 24's type stripping. Started by an older Node
// (the system's, when the command is run by its path or with `npm exec --prefix` from another directory), it
// runs itself again on the Node 24 the toolkit installs as its `node` dev dependency, so it works from anywhere.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  let node24;
  try {
    node24 = process.env.TOOLKIT_REEXEC ? undefined : createRequire(import.meta.url).resolve('node/bin/node');
  } catch {
    // not installed: say so below
  }
  if (!node24) {
    console.error(`toolkit needs Node 24 or later (this is ${process.version}), and the toolkit's own Node 24 is not installed:`
      + ' run npm install in the toolkit\'s directory.');
    process.exit(2);
  }
  const args = [fileURLToPath(import.meta.url), ...process.argv.slice(2)];
  const run = spawnSync(node24, args, { stdio: 'inherit', env: { ...process.env, TOOLKIT_REEXEC: '1' } });
  if (run.signal) process.kill(process.pid, run.signal);
  process.exit(run.status ?? 1);
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
