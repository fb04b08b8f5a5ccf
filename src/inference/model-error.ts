/**
 * What went wrong talking to a model, in terms safe to show a caller: never the key, the upstream
 * URL or a stack. `kind` says where it failed; `status` is the upstream's HTTP status when it answered
 * (`upstream`), otherwise the status a gateway answers with.
 */
export type ModelErrorKind = "upstream" | "timeout" | "network" | "protocol" | "aborted" | "credential";

export interface ModelErrorInit {
  kind: ModelErrorKind;
  status: number;
  code: string;
  message: string;
  retryAfterMs?: number;
  param?: string | null;
  type?: string | null;
}

export class ModelError extends Error {
  readonly kind: ModelErrorKind;
  readonly status: number;
  readonly code: string;
  readonly retryAfterMs: number | undefined;
  readonly param: string | null;
  readonly type: string | null;

  constructor(init: ModelErrorInit) {
    super(init.message);
    this.name = "ModelError";
    this.kind = init.kind;
    this.status = init.status;
    this.code = init.code;
    this.retryAfterMs = init.retryAfterMs;
    this.param = init.param ?? null;
    this.type = init.type ?? null;
  }
}

export function isModelError(error: unknown): error is ModelError {
  return error instanceof ModelError;
}
