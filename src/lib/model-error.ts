/**
 * What went wrong talking to a model, in terms safe to show a caller: never the key, the upstream
 * URL or a stack. `kind` says where it failed; `status` is the upstream's HTTP status when it answered
 * (`upstream`), otherwise the status a gateway answers with.
 */
export type ModelErrorKind = "upstream" | "timeout" | "network" | "protocol" | "aborted" | "credential" | "internal";

/**
 * Whose failure it was, which decides whether the deployment's circuit counts it: the deployment's
 * (it answered 5xx, broke, or was slow past its own timeout), the caller's (its deadline, it left),
 * or this app's (a credential it cannot get, a bug before anything was sent).
 */
export type ModelErrorBlame = "deployment" | "caller" | "app";

export interface ModelErrorInit {
  kind: ModelErrorKind;
  status: number;
  code: string;
  message: string;
  retryAfterMs?: number;
  param?: string | null;
  type?: string | null;
  /** When absent: the caller's for `aborted`, the app's for `credential` and `internal`, else the deployment's. */
  blame?: ModelErrorBlame;
}

export class ModelError extends Error {
  readonly kind: ModelErrorKind;
  readonly status: number;
  readonly code: string;
  readonly retryAfterMs: number | undefined;
  readonly param: string | null;
  readonly type: string | null;
  readonly blame: ModelErrorBlame;

  constructor(init: ModelErrorInit) {
    super(init.message);
    this.name = "ModelError";
    this.kind = init.kind;
    this.status = init.status;
    this.code = init.code;
    this.retryAfterMs = init.retryAfterMs;
    this.param = init.param ?? null;
    this.type = init.type ?? null;
    this.blame = init.blame ?? (init.kind === "aborted" ? "caller" : init.kind === "credential" || init.kind === "internal" ? "app" : "deployment");
  }
}

export function isModelError(error: unknown): error is ModelError {
  return error instanceof ModelError;
}
