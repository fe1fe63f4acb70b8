// Monitors: the contract (monitor.ts), the host the runner feeds (host.ts), the final diff (diff.ts),
// the built-in rules (rules/) and the review queue built from the logs (queue.ts, decide.ts).
export type { Finding, Monitor, Rule, RuleHit, RuleWatch, ToolAction } from './monitor.js';
export { MonitorHost } from './host.js';
export { builtinMonitor, ruleMonitor } from './rule-monitor.js';
export { BUILTIN_RULES } from './rules/index.js';
export { diffWorkspace, type FileChange, type WorkspaceDiff } from './diff.js';
