// The viewer's JSON API client (served by src/report/server.ts).
import type { CrossHarness, Figure, Provenance, Report } from '../../src/report/schema.js';

export type { CrossHarness, Figure, Provenance, Report };

export interface ExperimentListItem {
  id: string;
  created_at: string;
  rollouts: number;
  finished: number;
  tasks: number;
  harnesses: string[];
  models: string[];
}

export interface StoredEvent {
  t: string;
  seq: number;
  type: string;
  [k: string]: unknown;
}

export interface RolloutRow {
  experiment_id: string;
  rollout_id: string;
  task: string;
  family: string;
  harness: string;
  model: string | null;
  repeat: number;
  status: string;
  outcome: string | null;
  score: number | null;
  passed: boolean | null;
  started_at: string | null;
  finished_at: string | null;
  wall_ms: number | null;
  tool_calls: number | null;
  cost_usd: number | null;
  events: number;
}

export interface RolloutSummary {
  events: number;
  outcome: string | null;
  score: number | null;
  reason: string | null;
  wall_ms: number | null;
  working_ms: number | null;
  tool_calls: number;
  turns: number;
  model_calls: number;
  failed_model_calls: number;
  usage: { input: number; cached: number; cache_write: number; output: number; reasoning: number };
  cost_usd: number;
  ttft_ms: number[];
  output_tps: number[];
  evaluations: { seq: number; tool_calls: number; hours: number; score: number }[];
  flags: { total: number; confirmed: number; dismissed: number };
}

export interface RolloutDetail {
  row: RolloutRow;
  summary: RolloutSummary | null;
  provenance: Provenance;
  figures: Figure[];
}

export interface EventPage {
  total: number;
  from: number;
  events: StoredEvent[];
  next: number | null;
}

async function get<T>(url: string): Promise<T> {
  const res = await fetch(url);
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

const enc = encodeURIComponent;

export const api = {
  experiments: () => get<ExperimentListItem[]>('/api/experiments'),
  report: (id: string, includeInfra: boolean) => get<Report>(`/api/experiments/${enc(id)}/report${includeInfra ? '?include_infra=1' : ''}`),
  byHarness: (id: string, includeInfra: boolean) => get<Report>(`/api/experiments/${enc(id)}/report?by=harness${includeInfra ? '&include_infra=1' : ''}`),
  compare: (a: string, b: string, includeInfra: boolean) => get<Report>(`/api/compare?a=${enc(a)}&b=${enc(b)}${includeInfra ? '&include_infra=1' : ''}`),
  rolloutRow: (exp: string, rid: string) => get<{ row: RolloutRow }>(`/api/experiments/${enc(exp)}/rollouts/${enc(rid)}/row`),
  rollout: (exp: string, rid: string) => get<RolloutDetail>(`/api/experiments/${enc(exp)}/rollouts/${enc(rid)}`),
  body: (exp: string, rid: string, ref: string) => get<{ kind: 'request'; body: Record<string, unknown> } | { kind: 'response'; text: string }>(`/api/experiments/${enc(exp)}/rollouts/${enc(rid)}/body/${enc(ref)}`),
  events: (exp: string, rid: string, from: number, limit: number, type?: string) =>
    get<EventPage>(`/api/experiments/${enc(exp)}/rollouts/${enc(rid)}/events?from=${from}&limit=${limit}${type ? `&type=${enc(type)}` : ''}`),
};
