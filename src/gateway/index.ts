// The gateway: see docs/gateway.md.
export { startGateway, type Gateway, type GatewayOptions, type RegisterRolloutOptions, type Budget, type Spent } from './server.js';
export { spentFrom, mintToken, countsAsCall } from './rollouts.js';
export { CODECS } from './protocols/index.js';
export { CallMeter, type MeterResult } from './meter.js';
export { postUpstream, retryAfterMs, backoffMs, type RetryPolicy } from './upstream.js';
export * from './ir.js';
export { classifyStatus, isInfraStatus, isRetryableStatus, kindForStatus, type FailureKind } from './status.js';
export { Scrubber, keyForms } from './secrets.js';
export { readRecordedBody } from './bodies.js';
