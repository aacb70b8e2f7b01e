#!/usr/bin/env node
// Runs the TypeScript CLI through tsx from wherever `joulehub` is called (npm link, npx, a path).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
