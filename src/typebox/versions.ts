/**
 * The S2 JSON message versions this library speaks. `0.0.2-beta` is the set published as s2-ws-json
 * 0.0.2-beta; `1.0.0-beta` (the maintainers' v1.0.0-beta schemas) differs only in DDBC: it adds
 * `DDBC.PresentDemandStatus` and drops `present_demand_rate` from `DDBC.SystemDescription`, so the two
 * versions cannot exchange a DDBC description. Version strings are compared exactly, as in the S2
 * Handshake and in S2 Connect (`"0.0.2"`, `"v1"` or a range name no version here).
 */
export const S2_VERSIONS = ['1.0.0-beta', '0.0.2-beta'] as const;

/** One of {@link S2_VERSIONS}. */
export type S2Version = (typeof S2_VERSIONS)[number];

/** Whether `value` names a version this library speaks (exact string equality). */
export function isS2Version(value: unknown): value is S2Version {
  return typeof value === 'string' && (S2_VERSIONS as readonly string[]).includes(value);
}

/**
 * The versions a node offers when not told otherwise, by role, most preferred first. A CEM speaks both and prefers
 * the newest; an RM offers 0.0.2-beta only, so that an RM written before 1.0.0-beta existed (its DDBC description
 * carries `present_demand_rate`) keeps getting the version it was written for. Sessions and S2 Connect use the same.
 */
export const DEFAULT_VERSIONS: { readonly CEM: readonly S2Version[]; readonly RM: readonly S2Version[] } = {
  CEM: S2_VERSIONS,
  RM: ['0.0.2-beta'],
};
