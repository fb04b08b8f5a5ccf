/**
 * The Azure AI Model Inference wire types (snake_case, as on the wire). Only what this app reads
 * is typed; everything else passes through untouched, so extras reach the model when asked.
 */
export type ExtraParametersMode = "error" | "drop" | "pass-through";

export interface WireToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
  /** Present on stream deltas from OpenAI-style servers; Mistral on Azure leaves it out. */
  index?: number;
}

export interface WireMessage {
  role: "system" | "developer" | "user" | "assistant" | "tool";
  content?: unknown;
  tool_calls?: WireToolCall[] | null;
  tool_call_id?: string;
  [extra: string]: unknown;
}

export interface ChatCompletionsBody {
  messages: WireMessage[];
  model?: string;
  stream?: boolean;
  [field: string]: unknown;
}

export interface WireUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface ChatCompletion {
  id: string;
  object?: string;
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: { role: string; content: string | null; tool_calls?: WireToolCall[] | null };
    finish_reason: string | null;
    [extra: string]: unknown;
  }>;
  usage: WireUsage;
  [extra: string]: unknown;
}

export interface ChatCompletionChunk {
  id: string;
  object?: string;
  created: number;
  model: string;
  choices: Array<{
    index: number;
    delta: { role?: string; content?: string | null; tool_calls?: WireToolCall[] | null };
    finish_reason: string | null;
    [extra: string]: unknown;
  }>;
  usage?: WireUsage | null;
  [extra: string]: unknown;
}

export interface ModelInfo {
  model_name: string;
  model_type: string;
  model_provider_name: string;
}
