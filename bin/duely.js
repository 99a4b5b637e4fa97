#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx duely …` works without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
const code = await main(process.argv.slice(2));
if (code !== 0 || process.argv[2] !== 'serve') process.exit(code);
