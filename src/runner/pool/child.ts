// The worker side of the pool: rebuilds the experiment's context from the init message and runs
// each rollout it is sent with runRollout, exactly as the runner would in-process. Its rollouts stop
// (unfinished, resumable) when the runner says so or disconnects (the runner died).
import type { TrajectoryEvent } from '../../core/events.js';
import type { Task } from '../../core/types.js';
import { startGateway, type Gateway } from '../../gateway/index.js';
import { createHarness } from '../../harnesses/index.js';
import { DEFAULT_GATEWAY_SETTINGS, type GatewaySettings } from '../../models/config.js';
import { createSandbox } from '../../sandbox/index.js';
import type { Sandbox } from '../../sandbox/sandbox.js';
import { openStore } from '../../store/index.js';
import { Layout } from '../../store/layout.js';
import type { Store } from '../../store/store.js';
import { loadTask } from '../../tasks/load.js';
import { runRollout } from '../rollout.js';
import { type FromWorker, type InitMessage, type RunMessage, type ToWorker, toData } from './protocol.js';

interface Context {
  init: InitMessage;
  layout: Layout;
  store: Store;
  sandbox: Sandbox;
  tasks: Map<string, Task>;
  gateway: Gateway | null;
}

/** Events for the runner's live display, sent together once per turn of the event loop (a message each cost more than the event). */
let queued: { rollout_id: string; event: TrajectoryEvent }[] = [];
const flush = (): void => {
  if (!queued.length) return;
  const events = queued;
  queued = [];
  process.send?.({ type: 'events', events } satisfies FromWorker);
};
const queue = (rollout_id: string, event: TrajectoryEvent): void => {
  if (!queued.length) setImmediate(flush);
  queued.push({ rollout_id, event });
};
/** Any other message goes after the events before it. */
const send = (m: FromWorker): void => {
  flush();
  process.send?.(m);
};

async function setUp(init: InitMessage): Promise<Context> {
  const layout = new Layout(init.home);
  const sandbox = await createSandbox(init.sandbox);
  const store = await openStore(layout);
  const tasks = new Map<string, Task>();
  for (const [name, t] of Object.entries(init.tasks)) {
    const task = await loadTask(t.dir);
    if (task.hash !== t.hash) throw new Error(`task ${name} changed on disk while the experiment started (hash ${task.hash}, expected ${t.hash})`);
    tasks.set(name, task);
  }
  const endpoints = init.record.model_config?.endpoints ?? [];
  const gateway = endpoints.length
    ? await startGateway({ models: { models: endpoints, gateway: { ...DEFAULT_GATEWAY_SETTINGS, ...(init.record.model_config?.gateway as Partial<GatewaySettings>) } } })
    : null;
  return { init, layout, store, sandbox, tasks, gateway };
}

async function runOne(ctx: Context, m: RunMessage, aborts: Map<string, AbortController>): Promise<void> {
  const id = m.spec.rollout_id;
  const ac = new AbortController();
  aborts.set(id, ac);
  try {
    const task = ctx.tasks.get(m.spec.task.name);
    if (!task) throw new Error(`task ${m.spec.task.name} was not loaded by the worker`);
    const harness = createHarness(m.harness, ctx.init.record.harness_settings?.[m.harness]);
    const endpoint = m.spec.model ? ctx.init.record.model_config?.endpoints.find((e) => e.name === m.spec.model!.name) : undefined;
    const res = await runRollout({
      layout: ctx.layout,
      store: ctx.store,
      spec: m.spec,
      task,
      harness,
      sandbox: ctx.sandbox,
      model: endpoint && ctx.gateway ? { gateway: ctx.gateway, endpoint } : undefined,
      signal: ac.signal,
      retryInfra: ctx.init.retryInfra,
      onEvent: (event) => queue(id, event),
    });
    send({ type: 'result', rollout_id: id, result: { ...res, halted: res.halted ? toData(res.halted) : undefined } });
  } catch (e) {
    send({ type: 'failed', rollout_id: id, error: toData(e) });
  } finally {
    aborts.delete(id);
  }
}

export function runWorker(): void {
  let ctx: Promise<Context> | null = null;
  const aborts = new Map<string, AbortController>();
  const running = new Set<Promise<void>>();
  process.on('message', (m: ToWorker) => {
    if (m.type === 'init') {
      ctx = setUp(m);
      ctx.then(() => send({ type: 'ready' })).catch((e) => send({ type: 'fatal', error: toData(e) }));
    } else if (m.type === 'run' && ctx) {
      const p = ctx.then((c) => runOne(c, m, aborts));
      running.add(p);
      void p.finally(() => running.delete(p));
    } else if (m.type === 'abort') aborts.get(m.rollout_id)?.abort(new Error(m.reason));
  });
  // The runner is gone (it exited or was killed): stop every rollout, resumable, then leave.
  process.on('disconnect', () => {
    for (const ac of aborts.values()) ac.abort(new Error('the runner went away'));
    void Promise.allSettled([...running]).then(async () => {
      const c = await ctx?.catch(() => null);
      await c?.gateway?.close();
      await c?.store.close();
      process.exit(0);
    });
  });
}
