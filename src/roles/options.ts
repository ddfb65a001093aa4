import { codecFor } from '../codec/index.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../transport/transport.js';
import { S2Error } from '../typebox/errors.js';
import { CONTROL_TYPE_SHORT } from '../typebox/message-spec.js';
import { showValue, type Problem } from '../typebox/problem.js';
import { CONTROL_TYPE_OF_SHORT } from '../typebox/registry.js';
import { ID_MODES, type IdMode } from '../typebox/validators.js';
import { S2_VERSIONS, isS2Version } from '../typebox/versions.js';

/**
 * Up-front checks of the options of `connectSession`, `createRmClient` and `createCemServer`. A
 * wrong option is a mistake in the caller's code or configuration: found here it is one S2Error
 * naming every problem, instead of a connection that fails (1011) over and over in the reconnect
 * loop. Only what can be known before connecting is checked. `undefined` is always "not given".
 */

/**
 * A key of a handler map that is not a control type but is written like one (`FRB`, `OMBC2`): a
 * typo. Other extra members are allowed, e.g. the sim's CEM policy carries `handlers` and `summary`.
 */
const LOOKS_LIKE_CONTROL_TYPE = /^[A-Z][A-Z0-9_]{1,9}$/;

/** setTimeout's limit: a longer delay fires at once in Node (TimeoutOverflowWarning). */
const MAX_TIMER_MS = 2_147_483_647;
/** Any valid message_id stands in for the one the session fills in. */
const PLACEHOLDER_ID = 'd0000000-0000-4000-8000-000000000000';

type Fields = Readonly<Record<string, unknown>>;

function problem(path: string, message: string, value: unknown): Problem {
  return { path, message, value: showValue(value) };
}

/** A duration in ms for a timer: a finite number in [min, 2^31 − 1]. */
function duration(out: Problem[], o: Fields, key: string, min: number): void {
  const v = o[key];
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v)) out.push(problem(key, 'must be a finite number of milliseconds', v));
  else if (v < min || v > MAX_TIMER_MS) out.push(problem(key, `must be between ${min} and ${MAX_TIMER_MS} ms`, v));
}

/** A positive whole number (a size or a count). */
function positiveInteger(out: Problem[], o: Fields, key: string): void {
  const v = o[key];
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) out.push(problem(key, 'must be a positive integer', v));
}

/** A count that may be zero. */
function count(out: Problem[], o: Fields, key: string): void {
  const v = o[key];
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) out.push(problem(key, 'must be a whole number ≥ 0', v));
}

function fn(out: Problem[], o: Fields, key: string): void {
  const v = o[key];
  if (v !== undefined && typeof v !== 'function') out.push(problem(key, 'must be a function', v));
}

function oneOf(out: Problem[], o: Fields, key: string, allowed: readonly unknown[]): void {
  const v = o[key];
  if (v !== undefined && !allowed.includes(v))
    out.push(problem(key, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, v));
}

/** The options every session has (SessionOptions), whatever builds it. */
export function checkSessionOptions(options: unknown): Problem[] {
  const out: Problem[] = [];
  if (options === null || typeof options !== 'object') return [problem('$', 'options must be an object', options)];
  const o = options as Fields;
  oneOf(out, o, 'role', ['CEM', 'RM']);
  if (o.role === undefined) out.push({ path: 'role', message: "is required: 'CEM' or 'RM'" });
  oneOf(out, o, 'ids', ID_MODES);
  oneOf(out, o, 'rules', [true, false]);
  const versions = o.versions;
  if (versions !== undefined) {
    if (!Array.isArray(versions) || versions.length === 0)
      out.push(problem('versions', `must be a non-empty array of versions (${S2_VERSIONS.join(', ')})`, versions));
    else {
      // Exact strings, as the Handshake compares them: "0.0.2", "v1" or a range names no version (R27).
      versions.forEach((v: unknown, i) => {
        if (!isS2Version(v))
          out.push(problem(`versions[${i}]`, `must be one of the versions s2-engine speaks: ${S2_VERSIONS.join(', ')}`, v));
        else if (versions.indexOf(v) !== i) out.push(problem(`versions[${i}]`, 'is listed twice', v));
      });
    }
  }
  duration(out, o, 'handshakeTimeoutMs', 1);
  duration(out, o, 'receptionTimeoutMs', 1);
  duration(out, o, 'closeGraceMs', 0);
  count(out, o, 'instructionHistory');
  for (const key of ['policy', 'onMessage', 'now', 'newId', 'inspect']) fn(out, o, key);
  const logger = o.logger;
  if (logger !== undefined && logger !== false) {
    const l = logger as Fields | null;
    if (l === null || typeof l !== 'object' || ['debug', 'info', 'warn', 'error'].some((m) => typeof l[m] !== 'function')) {
      out.push(problem('logger', 'must have debug, info, warn and error methods (pino-shaped), or be false to silence', logger));
    }
  }
  if (o.sessionId !== undefined && (typeof o.sessionId !== 'string' || o.sessionId === ''))
    out.push(problem('sessionId', 'must be a non-empty string', o.sessionId));
  oneOf(out, o, 'observe', [true, false]);
  // An observing RM (the checking proxy's shadow) learns its details from what the real RM sends.
  if (o.role === 'RM' && o.observe !== true) {
    if (o.details === undefined) out.push({ path: 'details', message: 'is required for an RM: the ResourceManagerDetails it announces' });
    else out.push(...checkDetails(o.details, ID_MODES.includes(o.ids as IdMode) ? (o.ids as IdMode) : 'schema', o.rules !== false));
  }
  return out;
}

/** RM details against the ResourceManagerDetails schema and rules, as the session will send them. */
function checkDetails(details: unknown, ids: IdMode, rules: boolean): Problem[] {
  if (details === null || typeof details !== 'object' || Array.isArray(details))
    return [problem('details', 'must be an object (ResourceManagerDetails without message_id)', details)];
  const out: Problem[] = [];
  for (const key of ['message_id', 'message_type']) {
    if (key in details) out.push(problem(`details.${key}`, 'is filled in by the session: leave it out', (details as Fields)[key]));
  }
  const message = { ...details, message_type: 'ResourceManagerDetails', message_id: PLACEHOLDER_ID };
  for (const p of codecFor({ ids, rules }).check(message)) out.push({ ...p, path: p.path.replace(/^\$/, 'details') });
  return out;
}

/** Transport options shared by the WebSocket client and server (limits and authentication). */
function checkTransportOptions(out: Problem[], o: Fields): void {
  positiveInteger(out, o, 'maxFrameBytes');
  positiveInteger(out, o, 'sendHighWaterMark');
  duration(out, o, 'heartbeatMs', 0);
  duration(out, o, 'pongTimeoutMs', 1);
  duration(out, o, 'closeTimeoutMs', 0);
  if (o.token !== undefined && (typeof o.token !== 'string' || o.token === '' || /[\s]/.test(o.token))) {
    // An empty token is usually an unset environment variable: say so rather than send `Bearer `.
    out.push({
      path: 'token',
      message: 'must be a non-empty string without whitespace (leave it out, or undefined, for no token)',
      ...(typeof o.token === 'string' ? {} : { value: showValue(o.token) }),
    });
  }
  oneOf(out, o, 'perMessageDeflate', [true, false]);
  checkReceiveBudget(out, o);
}

/**
 * `receiveBudget`: false, or rates and bursts that are positive numbers. A byte burst below the
 * frame limit would close every peer that sends a frame the limit allows, so it is refused here.
 */
function checkReceiveBudget(out: Problem[], o: Fields): void {
  const budget = o.receiveBudget;
  if (budget === undefined || budget === false) return;
  if (budget === null || typeof budget !== 'object' || Array.isArray(budget)) {
    out.push(
      problem(
        'receiveBudget',
        'must be false or { bytesPerSecond, burstBytes, initialBytes, messagesPerSecond, burstMessages, now }',
        budget,
      ),
    );
    return;
  }
  const b = budget as Fields;
  for (const key of ['bytesPerSecond', 'messagesPerSecond']) {
    const v = b[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v <= 0))
      out.push(problem(`receiveBudget.${key}`, 'must be a positive number', v));
  }
  for (const key of ['burstBytes', 'initialBytes', 'burstMessages']) {
    const v = b[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v <= 0))
      out.push(problem(`receiveBudget.${key}`, 'must be a positive integer', v));
  }
  if (b.now !== undefined && typeof b.now !== 'function') out.push(problem('receiveBudget.now', 'must be a function', b.now));
  const maxFrameBytes = typeof o.maxFrameBytes === 'number' ? o.maxFrameBytes : DEFAULT_MAX_FRAME_BYTES;
  if (typeof b.burstBytes === 'number' && b.burstBytes < maxFrameBytes)
    out.push(
      problem(
        'receiveBudget.burstBytes',
        `must not be below maxFrameBytes (${maxFrameBytes}): a frame the size limit allows would always close the connection`,
        b.burstBytes,
      ),
    );
}

/** `createRmClient` options: the session's, the WebSocket client's, and the RM's own. */
export function checkRmClientOptions(options: unknown): Problem[] {
  if (options === null || typeof options !== 'object') return [problem('$', 'options must be an object', options)];
  const o = options as Fields;
  const out = checkSessionOptions({ ...o, role: 'RM' });
  checkTransportOptions(out, o);
  if (o.connect !== undefined) {
    if (typeof o.connect !== 'function') out.push(problem('connect', 'must be a function that opens a transport', o.connect));
    if (o.url !== undefined) out.push(problem('url', 'give either url or connect, not both', o.url));
  } else if (typeof o.url !== 'string')
    out.push(problem('url', "is required (the CEM's ws:// or wss:// URL), unless connect is given", o.url));
  else {
    let protocol: string | undefined;
    try {
      protocol = new URL(o.url).protocol;
    } catch {
      out.push(problem('url', 'is not a URL', o.url));
    }
    if (protocol !== undefined && protocol !== 'ws:' && protocol !== 'wss:')
      out.push(problem('url', 'must be a ws:// or wss:// URL', o.url));
  }
  const reconnect = o.reconnect;
  if (reconnect !== undefined && typeof reconnect !== 'boolean') {
    if (reconnect === null || typeof reconnect !== 'object')
      out.push(problem('reconnect', 'must be true, false or back-off options', reconnect));
    else {
      const r = reconnect as Fields;
      for (const key of ['initialMs', 'maxMs']) {
        const v = r[key];
        if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_TIMER_MS))
          out.push(problem(`reconnect.${key}`, `must be between 0 and ${MAX_TIMER_MS} ms`, v));
      }
      if (typeof r.initialMs === 'number' && typeof r.maxMs === 'number' && r.maxMs < r.initialMs)
        out.push(problem('reconnect.maxMs', 'must not be below reconnect.initialMs', r.maxMs));
      if (r.factor !== undefined && (typeof r.factor !== 'number' || !Number.isFinite(r.factor) || r.factor < 1))
        out.push(problem('reconnect.factor', 'must be a number ≥ 1', r.factor));
      if (r.jitter !== undefined && (typeof r.jitter !== 'number' || !(r.jitter >= 0 && r.jitter <= 1)))
        out.push(problem('reconnect.jitter', 'must be a number from 0 to 1', r.jitter));
    }
  }
  for (const key of ['onSession', 'onDialError']) fn(out, o, key);
  checkRmControlTypes(out, o);
  return out;
}

/**
 * The RM's handlers against what its details offer: a handler for a type it does not offer never
 * runs, and a type offered without a handler would be selected by a CEM and then never described
 * (R39), so both are mistakes. Checked only when `controlTypes` is given: without it the
 * application handles control types itself.
 */
function checkRmControlTypes(out: Problem[], o: Fields): void {
  const handlers = o.controlTypes;
  if (handlers === undefined) return;
  if (handlers === null || typeof handlers !== 'object') {
    out.push(problem('controlTypes', 'must be an object of handlers keyed FRBC, PPBC, OMBC, PEBC or DDBC', handlers));
    return;
  }
  const offered = (o.details as { available_control_types?: unknown } | undefined)?.available_control_types;
  const offers = Array.isArray(offered) ? (offered as unknown[]) : undefined;
  for (const [key, handler] of Object.entries(handlers)) {
    if (handler === undefined) continue;
    if (!(CONTROL_TYPE_SHORT as readonly string[]).includes(key)) {
      if (LOOKS_LIKE_CONTROL_TYPE.test(key))
        out.push({ path: `controlTypes.${key}`, message: `is not a control type: use ${CONTROL_TYPE_SHORT.join(', ')}` });
      continue;
    }
    if (handler === null || typeof handler !== 'object' || typeof (handler as Fields).activate !== 'function') {
      out.push(problem(`controlTypes.${key}`, 'must be a handler object with an activate(ctx) method', handler));
    }
    const wire = CONTROL_TYPE_OF_SHORT[key as keyof typeof CONTROL_TYPE_OF_SHORT];
    if (offers && !offers.includes(wire)) {
      out.push({
        path: `controlTypes.${key}`,
        message: `has a handler, but details.available_control_types does not offer ${wire}: it would never be selected`,
      });
    }
  }
  for (const wire of offers ?? []) {
    const short = (Object.keys(CONTROL_TYPE_OF_SHORT) as (keyof typeof CONTROL_TYPE_OF_SHORT)[]).find(
      (s) => CONTROL_TYPE_OF_SHORT[s] === wire,
    );
    if (short && (handlers as Fields)[short] === undefined) {
      out.push({
        path: 'details.available_control_types',
        message: `offers ${CONTROL_TYPE_OF_SHORT[short]} but controlTypes has no ${short} handler: a CEM that selects it would wait for a description that never comes (R39)`,
        value: showValue(offers),
      });
    }
  }
}

/** `createCemServer` options: the session's, the WebSocket server's, and the CEM's own. */
export function checkCemServerOptions(options: unknown): Problem[] {
  if (options === null || typeof options !== 'object') return [problem('$', 'options must be an object', options)];
  const o = options as Fields;
  const out = checkSessionOptions({ ...o, role: 'CEM' });
  checkTransportOptions(out, o);
  if (o.port !== undefined && (typeof o.port !== 'number' || !Number.isInteger(o.port) || o.port < 0 || o.port > 65535))
    out.push(problem('port', 'must be an integer from 0 to 65535', o.port));
  if (o.host !== undefined && (typeof o.host !== 'string' || o.host === ''))
    out.push(problem('host', 'must be a non-empty host name or address', o.host));
  if (o.path !== undefined && (typeof o.path !== 'string' || !o.path.startsWith('/')))
    out.push(problem('path', "must start with '/'", o.path));
  for (const key of ['onSession', 'onError', 'authorize']) fn(out, o, key);
  const handlers = o.controlTypes;
  if (handlers !== undefined) {
    if (handlers === null || typeof handlers !== 'object')
      out.push(problem('controlTypes', 'must be an object of handlers keyed FRBC, PPBC, OMBC, PEBC or DDBC', handlers));
    else {
      for (const [key, handler] of Object.entries(handlers)) {
        if (handler === undefined) continue;
        if (!(CONTROL_TYPE_SHORT as readonly string[]).includes(key)) {
          if (LOOKS_LIKE_CONTROL_TYPE.test(key))
            out.push({ path: `controlTypes.${key}`, message: `is not a control type: use ${CONTROL_TYPE_SHORT.join(', ')}` });
        } else if (handler === null || typeof handler !== 'object')
          out.push(problem(`controlTypes.${key}`, 'must be a handler object', handler));
      }
    }
  }
  return out;
}

/** Throws one S2Error('INVALID_OPTIONS') naming every problem (path, what is wrong, the value given). */
export function throwIfProblems(what: string, problems: readonly Problem[]): void {
  if (problems.length === 0) return;
  const lines = problems.map((p) => `${p.path} ${p.message}${p.value === undefined ? '' : ` (got ${p.value})`}`);
  throw new S2Error('INVALID_OPTIONS', `invalid ${what}: ${lines.join('; ')}`, { problems });
}
