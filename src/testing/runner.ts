import type { IdMode } from '../typebox/validators.js';
/**
 * Runs the conformance scenarios against a CEM or an RM over WebSocket, one session per scenario,
 * one scenario at a time, and collects a result per scenario.
 */
import { codecFor } from '../codec/index.js';
import { S2_VERSION } from '../machines/session-setup.js';
import { CONTROL_TYPE_SHORT, type ControlTypeShort } from '../typebox/message-spec.js';
import { shortOfControlType } from '../typebox/registry.js';
import { S2_VERSIONS, isS2Version, type S2Version } from '../typebox/versions.js';
import { dialer, listener, type Connector } from './connector.js';
import { KitCem } from './kit-cem.js';
import { ScenarioSkip, StepFailure, type Failure, type KitBase, type RunContext } from './kit-base.js';
import { KitRm } from './kit-rm.js';
import { Link } from './link.js';
import { RM_DISCOVERY, cemScenarios, rmScenarios, type RmOffer, type Scenario, type TestedRole } from './scenarios.js';

export interface ConformanceOptions {
  /** The role of the implementation under test: the kit plays the other one. */
  readonly role: TestedRole;
  /** Dial this URL for every scenario (a CEM, or an RM that listens). */
  readonly url?: string;
  /** Listen here; the RM under test connects (and reconnects after every scenario). */
  readonly listen?: { readonly port: number; readonly host?: string };
  /** Test only this control type (RM: NOT_CONTROLABLE = session scenarios only). Default: all the RM offers / all five. */
  readonly controlType?: ControlTypeShort | 'NOT_CONTROLABLE';
  /**
   * The S2 JSON version the kit speaks, one of `S2_VERSIONS`: as an RM it offers only this one in
   * its Handshake (so a CEM under test must select it), as a CEM it selects it (the RM under test
   * must offer it: if it does not, the run ends after the discovery with an error); every frame is
   * judged against that version's message set, and the kit's DDBC payloads are of that version.
   * Default `'0.0.2-beta'`. Run the kit once per version to test an implementation of both.
   */
  readonly version?: S2Version | undefined;
  /** Judge the peer's ID fields as canonical UUIDs (R3) instead of the schema's pattern. Default 'schema'. */
  readonly ids?: IdMode | undefined;
  /** Wait this long for an answer, a message or a close. Default 5000 ms. */
  readonly timeoutMs?: number;
  /** Watch this long that a CEM does not instruct before a description (R39). Default 300 ms. */
  readonly quietMs?: number;
  /** Execution time of the kit's instructions, ahead of now. Default one hour. */
  readonly leadMs?: number;
  /** Listen mode: wait this long for the RM to (re)connect. Default 70 s (a 60 s back-off ceiling and some). */
  readonly connectTimeoutMs?: number;
  /** Bearer token: sent when dialling, required from the RM when listening. */
  readonly token?: string;
  /** PEM CA certificate to trust when dialling wss://. */
  readonly ca?: string;
  /** Run only the scenarios this accepts (the RM discovery always runs). */
  readonly filter?: (scenario: Scenario) => boolean;
  /** The listening URL, once the kit listens. */
  readonly onListening?: (url: string) => void;
  /** Every result as it comes. */
  readonly onResult?: (result: ScenarioResult) => void;
}

export type Outcome = 'pass' | 'fail' | 'skip' | 'error';

export interface ScenarioResult {
  readonly scenario: Scenario;
  readonly outcome: Outcome;
  /** Every finding, the step failure first (rule ids, expected, observed frames). */
  readonly failures: readonly Failure[];
  /** Why the scenario was skipped, or the error that stopped it. */
  readonly note?: string;
  readonly durationMs: number;
}

export interface ConformanceReport {
  readonly role: TestedRole;
  readonly target: string;
  readonly mode: 'dial' | 'listen';
  /** The S2 JSON version the run spoke. */
  readonly version: S2Version;
  /** What the RM offered (RM under test). */
  readonly offer?: RmOffer;
  readonly results: readonly ScenarioResult[];
  readonly counts: {
    readonly total: number;
    readonly passed: number;
    readonly failed: number;
    readonly skipped: number;
    readonly errors: number;
  };
  readonly durationMs: number;
}

/** Whether the implementation passed: no failure and no error (skipped scenarios do not count). */
export const passed = (report: ConformanceReport): boolean => report.counts.failed === 0 && report.counts.errors === 0;

export async function runConformance(options: ConformanceOptions): Promise<ConformanceReport> {
  if (options.role !== 'CEM' && options.role !== 'RM') throw new TypeError(`role must be CEM or RM, got ${String(options.role)}`);
  if (Boolean(options.url) === Boolean(options.listen)) throw new TypeError('give exactly one of url and listen');
  if (options.role === 'CEM' && options.listen)
    throw new TypeError('a CEM is tested by dialling it (url): the kit plays an RM, which is the client');
  if (options.role === 'CEM' && options.controlType === 'NOT_CONTROLABLE')
    throw new TypeError('NOT_CONTROLABLE has no CEM scenarios; pick FRBC, PPBC, OMBC, PEBC or DDBC');
  if (options.version !== undefined && !isS2Version(options.version))
    throw new TypeError(`version must be one of ${S2_VERSIONS.join(', ')}, got ${JSON.stringify(options.version)}`);
  const version: S2Version = options.version ?? S2_VERSION;
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 5_000;
  const ctx: RunContext = {
    codec: codecFor({ ids: options.ids ?? 'schema', version }),
    version,
    timeoutMs,
    quietMs: options.quietMs ?? 300,
    leadMs: options.leadMs ?? 3_600_000,
    unsupported: new Map(),
    noInstructions: new Map(),
  };
  const connector: Connector = options.url
    ? dialer(options.url, { ...(options.token ? { token: options.token } : {}), ...(options.ca ? { ca: options.ca } : {}) })
    : await listener({ ...options.listen!, ...(options.token ? { token: options.token } : {}) });
  if (connector.mode === 'listen') options.onListening?.(connector.url);
  const connectTimeoutMs = connector.mode === 'listen' ? (options.connectTimeoutMs ?? 70_000) : timeoutMs;
  const results: ScenarioResult[] = [];
  const record = (r: ScenarioResult) => {
    results.push(r);
    options.onResult?.(r);
  };
  let offer: RmOffer | undefined;
  try {
    let scenarios: Scenario[];
    if (options.role === 'RM') {
      const { result, kit } = await runOne(RM_DISCOVERY, connector, ctx, connectTimeoutMs);
      const offered = (kit as KitCem | undefined)?.details?.available_control_types;
      const versions = (kit as KitCem | undefined)?.rmHandshake?.supported_protocol_versions;
      // Asked for a version the RM does not speak: nothing of that version can be tested.
      if (options.version !== undefined && versions && !versions.includes(version)) {
        record({ ...result, outcome: 'error', note: `the RM does not offer S2 ${version} (it offers ${versions.join(', ')})` });
        return report();
      }
      const types = (offered ?? []).flatMap((ct) => shortOfControlType(ct) ?? []);
      offer = { types, notControllable: offered?.includes('NOT_CONTROLABLE') ?? false };
      const wanted = options.controlType;
      if (offered && wanted && wanted !== 'NOT_CONTROLABLE' && !types.includes(wanted)) {
        record({ ...result, outcome: 'error', note: `the RM does not offer ${wanted} (it offers ${offered.join(', ')})` });
        return report();
      }
      record(result);
      if (!offered || result.outcome === 'error') return report();
      scenarios = rmScenarios(offer, wanted === undefined ? types : wanted === 'NOT_CONTROLABLE' ? [] : [wanted]);
    } else {
      scenarios = cemScenarios(options.controlType ? [options.controlType as ControlTypeShort] : CONTROL_TYPE_SHORT);
    }
    for (const s of scenarios) {
      if (options.filter && !options.filter(s)) continue;
      const { result } = await runOne(s, connector, ctx, connectTimeoutMs);
      record(result);
      // Without a connection there is nothing more to test.
      if (result.outcome === 'error' && /no RM connected|connection to .* failed/.test(result.note ?? '')) break;
    }
  } finally {
    await connector.close();
  }
  return report();

  function report(): ConformanceReport {
    const count = (o: Outcome) => results.filter((r) => r.outcome === o).length;
    return {
      role: options.role,
      target: connector.url,
      mode: connector.mode,
      version,
      ...(offer ? { offer } : {}),
      results,
      counts: { total: results.length, passed: count('pass'), failed: count('fail'), skipped: count('skip'), errors: count('error') },
      durationMs: Date.now() - started,
    };
  }
}

async function runOne(
  scenario: Scenario,
  connector: Connector,
  ctx: RunContext,
  connectTimeoutMs: number,
): Promise<{ result: ScenarioResult; kit: KitBase | undefined }> {
  const t0 = Date.now();
  let transport;
  try {
    transport = await connector.next(connectTimeoutMs);
  } catch (err) {
    return {
      result: {
        scenario,
        outcome: 'error',
        failures: [],
        note: err instanceof Error ? err.message : String(err),
        durationMs: Date.now() - t0,
      },
      kit: undefined,
    };
  }
  const link = new Link(transport, ctx.codec);
  const kit: KitBase = scenario.role === 'RM' ? new KitCem(link, ctx, scenario) : new KitRm(link, ctx, scenario);
  let failure: Failure | undefined;
  let note: string | undefined;
  let error = false;
  let skipped = false;
  try {
    kit.beginStep('connect');
    await kit.open();
    for (const event of [...scenario.prefix, ...scenario.events]) {
      kit.beginStep(event);
      await kit.run(event);
    }
    await kit.finish();
  } catch (err) {
    if (err instanceof StepFailure) failure = err.failure;
    else if (err instanceof ScenarioSkip) {
      skipped = true;
      note = err.message;
    } else {
      error = true;
      note = err instanceof Error ? err.message : String(err);
    }
  } finally {
    try {
      await kit.teardown();
    } catch {
      // The session is over either way.
    }
  }
  if (link.errors.length && !error) {
    error = true;
    note = `conformance kit error: ${String(link.errors[0])}`;
  }
  const failures = [...(failure ? [failure] : []), ...kit.violations.map(({ seq: _seq, ...f }) => f)];
  const outcome: Outcome = failures.length ? 'fail' : error ? 'error' : skipped ? 'skip' : 'pass';
  return { result: { scenario, outcome, failures, ...(note ? { note } : {}), durationMs: Date.now() - t0 }, kit };
}
