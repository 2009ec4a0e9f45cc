// Registers the resolve hook that stands in for the contract's imports when the SDK runs
// natively under node's test runner: `node --import ./test/register.js --test ...`.
import { register } from 'node:module';

register('./hooks.js', import.meta.url);
