// qwen-code, the real CLI from the npm registry, as a harness: the shared external-CLI suite (cli-suite.ts).
import { cliSuite } from './cli-suite.js';

cliSuite('qwen-code', { client: null, mapsToolResults: true });
