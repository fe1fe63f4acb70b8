// A Monitor made of rules: each tool call is pulled apart once (match.ts: actionOf) and shown to every
// rule's `action`, every event to the rules that watch events, every final change to `change`. The
// built-in monitor (`builtin`) is this over rules/index.ts.
import type { TrajectoryEvent } from '../core/events.js';
import type { FileChange } from './diff.js';
import { actionOf } from './match.js';
import type { Finding, Monitor, Rule, RuleHit, RuleWatch } from './monitor.js';
import { BUILTIN_RULES } from './rules/index.js';

export function ruleMonitor(name: string, rules: readonly Rule[]): Monitor {
  const watches: Array<{ rule: Rule; w: RuleWatch }> = rules.map((rule) => ({ rule, w: rule.start() }));
  const onAction = watches.filter((x) => x.w.action);
  const onEvent = watches.filter((x) => x.w.event);
  const onChange = watches.filter((x) => x.w.change);
  const finding = (rule: Rule, h: RuleHit): Finding => ({ rule_id: rule.id, rule_version: rule.version, severity: rule.severity, ...h });
  return {
    name,
    event(e: TrajectoryEvent): Finding[] {
      const out: Finding[] = [];
      // a call repeated after a crash was seen (and flagged) the first time: the resumed host replays it
      if (e.type === 'tool.call' && !e.repeated && onAction.length) {
        const a = actionOf(e);
        for (const { rule, w } of onAction) {
          const h = w.action!(a);
          if (h) out.push(finding(rule, h));
        }
      }
      for (const { rule, w } of onEvent) {
        const h = w.event!(e);
        if (h) out.push(finding(rule, h));
      }
      return out;
    },
    changes(changes: readonly FileChange[]): Finding[] {
      const out: Finding[] = [];
      for (const c of changes)
        for (const { rule, w } of onChange) {
          const h = w.change!(c);
          if (h) out.push(finding(rule, h));
        }
      return out;
    },
  };
}

/** The built-in monitor, fresh for one rollout attempt (rules keep per-rollout state). */
export function builtinMonitor(): Monitor {
  return ruleMonitor('builtin', BUILTIN_RULES);
}
