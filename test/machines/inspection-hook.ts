/**
 * The seam through which the model-based tests see inside the session actors that `S2Session`
 * creates. The test files mock `xstate` so that every `createActor` call gets
 * `inspect: forwardInspection`; a collector installs itself here. This module must not import
 * `xstate` itself (it is loaded from inside that mock's factory).
 */
export type InspectionListener = (event: { readonly type: string } & Record<string, unknown>) => void;

let current: InspectionListener | undefined;

export function setInspectionListener(listener: InspectionListener | undefined): void {
  current = listener;
}

export function forwardInspection(event: unknown): void {
  current?.(event as { readonly type: string } & Record<string, unknown>);
}
