// Runs before each test file: lets the helpers skip the running test, with the reason
// printed, when it needs a feature this machine lacks (test/helpers.ts, needsAddress0).
import { beforeEach } from 'vitest';
import { setCurrentTest } from './helpers.js';

beforeEach((ctx) => setCurrentTest(ctx));
