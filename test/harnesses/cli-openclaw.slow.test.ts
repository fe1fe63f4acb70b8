// openclaw, the real CLI from the npm registry, as a harness: the shared external-CLI suite (cli-suite.ts).
import { cliSuite } from './cli-suite.js';

cliSuite('openclaw', { client: null, mapsToolResults: false });
