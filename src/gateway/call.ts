// One model call through the gateway, as a pipeline of stages (docs/gateway.md has the diagram):
// authenticate → read body → parse → admit → build → send → relay → record. Each stage lives in
// stages/; this file only composes them and turns a stage's Refusal into the client's answer and a
// record. What the stages share about the gateway is the GatewayCore.
import type http from 'node:http';
import type { Logger } from 'pino';
import type { Agent } from 'undici';
import type { Protocol } from '../core/types.js';
import type { GatewaySettings } from '../models/config.js';
import { resolvePricing } from '../models/pricing.js';
import type { BodyStore } from './bodies.js';
import { CallMeter } from './meter.js';
import { CODECS, type Codec } from './protocols/index.js';
import { Refusal, sendRefusal } from './respond.js';
import type { RolloutState } from './rollouts.js';
import type { Scrubber } from './secrets.js';
import { admit } from './stages/admit.js';
import { authenticate } from './stages/auth.js';
import { type ByteBudget, readBody } from './stages/body.js';
import { buildUpstream } from './stages/build.js';
import { CallDeadline } from './stages/deadline.js';
import { type Endpoints, type ParsedCall, parseCall, parseJson } from './stages/parse.js';
import { CallRecorder, type CallOutcome } from './stages/record.js';
import { relayNoResponse, relayUpstreamError } from './stages/relay-error.js';
import { CLIENT_GONE, type RelayParts, relayJson } from './stages/relay-json.js';
import { relaySse } from './stages/relay-sse.js';
import { send } from './stages/send.js';

export interface GatewayCore {
  settings: GatewaySettings;
  env: NodeJS.ProcessEnv;
  endpoints: Endpoints;
  rollouts: ReadonlyMap<string, RolloutState>;
  agent: Agent;
  buffered: ByteBudget;
  scrubber(): Scrubber;
  bodies(ro: RolloutState): BodyStore | null;
  logger?: Logger;
}

export async function handleCall(core: GatewayCore, req: http.IncomingMessage, res: http.ServerResponse, protocol: Protocol): Promise<void> {
  const client = CODECS[protocol];
  let ro: RolloutState;
  try {
    ro = authenticate(req, core.rollouts);
  } catch (e) {
    req.resume();
    return sendRefusal(res, client, e as Refusal);
  }
  const rec = new CallRecorder(ro, protocol, core.scrubber(), core.logger);
  let call: ParsedCall | undefined;
  let model: string | undefined;
  let release = () => {};
  try {
    const body = await readBody(req, core.settings, core.buffered, ro.prefixes.sink());
    release = body.release;
    rec.requestBytes = body.raw.length;
    call = parseCall(body.raw, client, core.endpoints, ro.prefixes, (m) => (model = m));
    await forward(core, req, res, { ro, rec, call, client, raw: body.raw });
  } catch (e) {
    if (!(e instanceof Refusal)) throw e;
    rec.refused(e, { name: model, ep: call?.ep, ir: call?.ir, counts: call?.counts });
    sendRefusal(res, client, e);
  } finally {
    release();
  }
}

/** Admit, build, send, relay, record: the call from the moment it is understood. */
async function forward(core: GatewayCore, req: http.IncomingMessage, res: http.ServerResponse, c: { ro: RolloutState; rec: CallRecorder; call: ParsedCall; client: Codec; raw: Buffer }): Promise<void> {
  const { ro, rec, call, client } = c;
  const { pricing, price_table } = resolvePricing(call.ep);
  const admission = admit(ro, call.ir, rec.requestBytes, pricing, core.settings);
  const reservation = admission.held;
  let retries = 0;
  let waited = 0;
  let outcome: CallOutcome = { status: 500, error: { message: 'gateway internal error', infra: true, kind: 'gateway' } };
  const deadline = new CallDeadline(core.settings.call_timeout_ms, core.settings.progress_timeout_ms);
  const onClose = () => res.writableFinished || deadline.clientGone();
  res.on('close', onClose);
  try {
    let upReq;
    try {
      upReq = buildUpstream(call, ro, client.protocol, req.headers, core.env, admission.outputLimit);
    } catch (e) {
      ro.release(reservation);
      throw e;
    }
    const store = core.bodies(ro);
    const meter = new CallMeter(performance.now());
    meter.requestChars = upReq.bytes;
    const sent = await send(core.agent, upReq, core.settings, deadline, () => rec.forwarding({ ep: call.ep, ir: call.ir, counts: call.counts, pricing, price_table, meter, reservation, outputLimit: admission.outputLimit, requestBody: store?.putRequest(call.body ?? parseJson(c.raw)) }));
    if (!sent.ok) {
      const s = 'gone' in sent ? sent.gone : sent.failure;
      retries = s.retries;
      waited = s.retry_wait_ms;
      outcome = 'gone' in sent ? CLIENT_GONE : relayNoResponse(res, client, sent.failure);
      return;
    }
    const up = sent.up;
    retries = up.retries;
    waited = up.retry_wait_ms;
    if (up.status >= 300 || !up.body) {
      outcome = relayUpstreamError(res, client, call.same, up, core.scrubber());
      return;
    }
    const parts: RelayParts = { res, client: client, upstream: CODECS[call.ep.protocol], call, meter, ro, scrubber: core.scrubber(), deadline, callId: rec.callId, keep: store ? (t) => (rec.responseBody = store.putResponse(t)) : undefined };
    outcome = call.ir.stream ? await relaySse(parts, up.body) : await relayJson(parts, up.body);
  } finally {
    deadline.dispose();
    res.off('close', onClose);
    if (rec.isForwarded) rec.finished(outcome, retries, waited);
  }
}
