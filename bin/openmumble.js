#!/usr/bin/env node
// The compiled CLI; `npm install` builds it (the prepare script).
const { runCli } = await import('../dist/src/cli/index.js');
await runCli(process.argv);
