/** Error answers in the upstream's shape: `{"error": {code, message, type, param, status}}`. */
export interface WireError {
  status: number;
  body: { error: { code: string; message: string; type: string | null; param: string | null; status: number } };
  headers?: Record<string, string>;
}

export function wireError(status: number, code: string, message: string, param: string | null = null): WireError {
  return { status, body: { error: { code, message, type: null, param, status } } };
}

/** The seed's content-filter answer, word for word. */
export const CONTENT_FILTER_ERROR = wireError(
  400,
  "content_filter",
  "The response was filtered due to the prompt triggering Microsoft's content management policy. Please modify your prompt and retry.",
  "prompt",
);
