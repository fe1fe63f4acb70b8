// Where outlast keeps its runs on disk. The JSONL trajectories and experiment.json files are the
// source of truth; the SQLite database beside them is derived and can be rebuilt (`outlast rebuild`).
//
//   <home>/outlast.db
//   <home>/experiments/<experiment-id>/experiment.json
//   <home>/experiments/<experiment-id>/rollouts/<rollout-id>/trajectory.jsonl
//   <home>/experiments/<experiment-id>/rollouts/<rollout-id>/workspace/
import path from 'node:path';

/** Default home: `.outlast` in the current directory, unless OUTLAST_HOME is set. */
export function defaultHome(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return path.resolve(cwd, env.OUTLAST_HOME || '.outlast');
}

export class Layout {
  constructor(readonly home: string) {}
  get db(): string {
    return path.join(this.home, 'outlast.db');
  }
  get experimentsDir(): string {
    return path.join(this.home, 'experiments');
  }
  experimentDir(experimentId: string): string {
    return path.join(this.experimentsDir, experimentId);
  }
  experimentFile(experimentId: string): string {
    return path.join(this.experimentDir(experimentId), 'experiment.json');
  }
  rolloutDir(experimentId: string, rolloutId: string): string {
    return path.join(this.experimentDir(experimentId), 'rollouts', rolloutId);
  }
  trajectory(experimentId: string, rolloutId: string): string {
    return path.join(this.rolloutDir(experimentId, rolloutId), 'trajectory.jsonl');
  }
  workspace(experimentId: string, rolloutId: string): string {
    return path.join(this.rolloutDir(experimentId, rolloutId), 'workspace');
  }
}
