/**
 * The seam through which the model-based tests see inside the actors that `S2Session` (or a test
 * harness) creates. The test files mock `xstate` so that every `createActor` call gets
 * `inspect: forwardInspection`; a collector installs itself here. This module must not import
 * `xstate` itself (it is loaded from inside that mock's factory).
 *
 * `setInspectionListener` holds the one long-lived listener of a test file (its coverage
 * collector); `addInspectionListener` adds short-lived ones (e.g. one test's snapshot probe) and
 * returns their removal.
 */
export type InspectionListener = (event: { readonly type: string } & Record<string, unknown>) => void;

let current: InspectionListener | undefined;
const extra = new Set<InspectionListener>();

export function setInspectionListener(listener: InspectionListener | undefined): void {
  current = listener;
}

export function addInspectionListener(listener: InspectionListener): () => void {
  extra.add(listener);
  return () => {
    extra.delete(listener);
  };
}

export function forwardInspection(event: unknown): void {
  const e = event as { readonly type: string } & Record<string, unknown>;
  current?.(e);
  for (const listener of extra) listener(e);
}
