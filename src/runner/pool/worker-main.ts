// Entry point of an experiment's worker process (forked by pool/parent.ts): runs the rollouts it is
// sent, each with this process's own sandbox, store connection and gateway, and reports their events
// and results. It stops its rollouts when told, or when its runner goes away.
import { runWorker } from './child.js';

runWorker();
