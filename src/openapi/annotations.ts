import type { JsonSchema } from "./swagger-schema.js";

/**
 * What a Logic Apps / Power Automate designer needs beyond the request schemas: labels, help text, which
 * fields come first (`important`), which hide under advanced options (`advanced`) and which a workflow
 * never sets (`internal`), defaults, test values, enum labels and the model picker. Kept here, by field
 * path, so that the schemas in src/chat stay the request validation and nothing else; a path that no
 * longer names a field fails the document's build (and so the tests), so a renamed field cannot lose its
 * annotation silently.
 */
export type Visibility = "important" | "advanced" | "internal";

export interface Annotation {
  /** The field's label (`x-ms-summary`); else one made from its name. */
  summary?: string;
  /** Replaces the schema's description; notes the conversion adds ("Also accepted: ...") stay. */
  description?: string;
  visibility?: Visibility;
  default?: unknown;
  /** `x-ms-test-value`: what the connector's test uses. */
  testValue?: unknown;
  /** `x-ms-enum-values`: a label for each enum value. */
  enumTitles?: Record<string, string>;
  /** `x-ms-dynamic-values`: the values the designer offers, from another operation. */
  dynamicValues?: Record<string, string>;
}

export type Annotations = Record<string, Annotation>;

/** The operation whose answer lists the deployments: the model picker's source. */
export const INFO_OPERATION = "GetModelInfo";

const NOTES = /\s*(?:Also accepted: |Only with type ).*$/;

/**
 * Applies annotations to a converted (Swagger 2.0) schema, by field path: `messages[].role` is the
 * `role` of each item of `messages`. Throws for a path the schema does not have.
 */
export function annotate(schema: JsonSchema, annotations: Annotations, name: string): JsonSchema {
  for (const [path, annotation] of Object.entries(annotations)) {
    const field = find(schema, path);
    if (!field) throw new Error(`OpenAPI annotations of ${name}: ${path} is not a field of it.`);
    apply(field, annotation, `${name}.${path}`);
  }
  return schema;
}

/** The annotations under `prefix`: `nested("usage", {total_tokens: ...})` annotates `usage.total_tokens`. */
export function nested(prefix: string, annotations: Annotations): Annotations {
  return Object.fromEntries(Object.entries(annotations).map(([path, annotation]) => [path === "" ? prefix : `${prefix}.${path}`, annotation]));
}

function find(schema: JsonSchema, path: string): JsonSchema | undefined {
  let node: JsonSchema | undefined = schema;
  for (const segment of path.split(".")) {
    const [field, ...arrays] = segment.split("[]");
    node = (node?.properties as Record<string, JsonSchema> | undefined)?.[field as string];
    for (let i = 0; i < arrays.length; i++) node = node?.items as JsonSchema | undefined;
  }
  return node;
}

function apply(field: JsonSchema, annotation: Annotation, where: string): void {
  if (annotation.summary !== undefined) field["x-ms-summary"] = annotation.summary;
  if (annotation.description !== undefined) {
    const notes = typeof field.description === "string" ? (NOTES.exec(field.description)?.[0].trim() ?? "") : "";
    field.description = [annotation.description, notes].filter(Boolean).join(" ");
  }
  if (annotation.visibility !== undefined) field["x-ms-visibility"] = annotation.visibility;
  if (annotation.default !== undefined) field.default = annotation.default;
  if (annotation.testValue !== undefined) field["x-ms-test-value"] = annotation.testValue;
  if (annotation.dynamicValues !== undefined) field["x-ms-dynamic-values"] = annotation.dynamicValues;
  if (annotation.enumTitles !== undefined) {
    const values = (field.enum as unknown[] | undefined) ?? [];
    const unknown = Object.keys(annotation.enumTitles).filter((value) => !values.includes(value));
    if (unknown.length > 0) throw new Error(`OpenAPI annotations of ${where}: ${unknown.join(", ")} not in its enum.`);
    field["x-ms-enum-values"] = values.map((value) => ({ value, displayName: annotation.enumTitles?.[String(value)] ?? String(value) }));
  }
}

// The annotations of each definition.

const MODEL: Annotation = {
  summary: "Model",
  visibility: "important",
  dynamicValues: { operationId: INFO_OPERATION, "value-collection": "deployments", "value-path": "alias", "value-title": "alias" },
};

const RESPONSE_FORMAT: Annotations = {
  "": {
    summary: "Response Format",
    description:
      "JSON mode: text (the default), json_object (any JSON object) or json_schema (JSON that matches json_schema.schema). " +
      "In JSON mode the answer comes parsed, in parsed.",
  },
  type: {
    summary: "Format",
    description: "text, json_object or json_schema.",
    default: "text",
    enumTitles: { text: "Text", json_object: "JSON object", json_schema: "JSON matching a schema" },
  },
  json_schema: { summary: "JSON Schema", description: "The JSON Schema the answer must match, and its name." },
  "json_schema.name": { summary: "Schema Name", description: "The schema's name: letters, digits, _ and -, at most 64.", testValue: "answer" },
  "json_schema.description": { summary: "Schema Description", description: "What the answer is, for the model." },
  "json_schema.schema": {
    summary: "Schema",
    testValue: { type: "object", properties: { answer: { type: "string" } }, required: ["answer"], additionalProperties: false },
  },
  "json_schema.strict": { summary: "Strict", description: "Whether the model must keep to the schema exactly." },
};

const USAGE: Annotations = {
  "": { summary: "Usage", description: "The tokens used, over every model call of the request; null when the model did not say." },
  prompt_tokens: { summary: "Prompt Tokens", description: "Tokens of the request." },
  completion_tokens: { summary: "Completion Tokens", description: "Tokens of the answer." },
  total_tokens: { summary: "Total Tokens", description: "Prompt and completion tokens together." },
};

const SAMPLING: Annotations = {
  temperature: { summary: "Temperature", description: "Sampling temperature, 0 to 1: lower is more focused and repeatable.", visibility: "advanced" },
  top_p: {
    summary: "Top P",
    description: "Nucleus sampling, 0 to 1: only the likeliest tokens, up to this total probability, are considered.",
    visibility: "advanced",
  },
  max_tokens: {
    summary: "Max Tokens",
    description: "The most tokens the answer may have; an answer cut here has finish_reason length.",
    visibility: "advanced",
  },
  seed: {
    summary: "Seed",
    description: "For repeatable answers: the same seed and request give the same answer, as far as the model can.",
    visibility: "advanced",
  },
  safe_mode: { summary: "Safe Mode", description: "Mistral's safe prompt: the model is told to answer with care.", visibility: "advanced", default: false },
};

const PROMPT_TEST = "How many languages are in the world?";

export const CHAT_REQUEST: Annotations = {
  messages: { summary: "Messages", visibility: "important", testValue: [{ role: "user", content: PROMPT_TEST }] },
  "messages[].role": {
    summary: "Role",
    description: "Who said it: system (instructions), user, assistant (an earlier answer) or tool (a tool's result).",
    visibility: "important",
    default: "user",
  },
  "messages[].content": { summary: "Content", visibility: "important" },
  "messages[].tool_calls": {
    summary: "Tool Calls",
    description: "For assistant messages: the tool calls of an earlier answer, as it gave them.",
    visibility: "advanced",
  },
  "messages[].tool_calls[].id": { summary: "Tool Call ID" },
  "messages[].tool_calls[].type": { summary: "Type", description: "Always function.", visibility: "internal", default: "function" },
  "messages[].tool_calls[].function": { summary: "Function", description: "The function the model called." },
  "messages[].tool_calls[].function.name": { summary: "Function Name", description: "The function's name." },
  "messages[].tool_calls[].function.arguments": { summary: "Arguments" },
  "messages[].tool_calls[].function.call_id": {
    summary: "Call ID",
    description: "Accepted as earlier answers may carry it (often null); a workflow need not set it.",
    visibility: "internal",
  },
  "messages[].tool_call_id": { summary: "Tool Call ID", visibility: "advanced" },
  "messages[].name": { summary: "Tool Name", visibility: "advanced" },
  model: MODEL,
  ...SAMPLING,
  stop: { summary: "Stop", description: "Text at which the model stops; it is not part of the answer.", visibility: "advanced" },
  presence_penalty: {
    summary: "Presence Penalty",
    description: "-2 to 2: above 0 makes the model less likely to come back to what it has already said.",
    visibility: "advanced",
  },
  frequency_penalty: {
    summary: "Frequency Penalty",
    description: "-2 to 2: above 0 makes the model less likely to repeat the same words.",
    visibility: "advanced",
  },
  ...nested("response_format", RESPONSE_FORMAT),
  tools: {
    summary: "Caller Tools",
    description:
      "Functions the workflow runs itself: the model answers with tool_calls, and the workflow sends each result back as a tool message. " +
      "Not with server_tools.",
    visibility: "advanced",
  },
  "tools[].type": { summary: "Type", description: "Always function.", visibility: "internal", default: "function" },
  "tools[].function": { summary: "Function", description: "The function: its name, what it does and the JSON Schema of its arguments." },
  "tools[].function.name": { summary: "Function Name" },
  "tools[].function.description": { summary: "Function Description", description: "What the function does, for the model; at most 1024 characters." },
  "tools[].function.parameters": { summary: "Parameters Schema" },
  tool_choice: {
    summary: "Tool Choice",
    description: "Whether the model may call tools: auto (it decides), none, or required (it must).",
    visibility: "advanced",
  },
  server_tools: { summary: "Server Tools" },
  extra: { summary: "Extra Parameters", visibility: "advanced" },
};

export const ASK_REQUEST: Annotations = {
  prompt: { summary: "Prompt", visibility: "important", testValue: PROMPT_TEST },
  system: { summary: "System Instructions" },
  messages: { summary: "Earlier Conversation", visibility: "advanced" },
  "messages[].role": { summary: "Role" },
  "messages[].content": { summary: "Content" },
  model: MODEL,
  ...nested("response_format", RESPONSE_FORMAT),
  ...SAMPLING,
  server_tools: { summary: "Server Tools" },
};

const MESSAGE: Annotations = {
  role: { summary: "Role", description: "Always assistant." },
  content: { summary: "Answer", description: "The answer's text (in JSON mode, the JSON as text)." },
  tool_calls: { summary: "Tool Calls", description: "The caller's tools the model asks to run (with tools), each with its arguments." },
  "tool_calls[].id": { summary: "Tool Call ID", description: "The call's id: send it back as tool_call_id." },
  "tool_calls[].type": { summary: "Type", description: "Always function." },
  "tool_calls[].function": { summary: "Function", description: "The function to call." },
  "tool_calls[].function.name": { summary: "Function Name", description: "The function's name." },
  "tool_calls[].function.arguments": { summary: "Arguments", description: "The arguments, as a JSON string." },
  parsed: { summary: "Parsed JSON" },
};

export const CHAT_RESPONSE: Annotations = {
  id: { summary: "Answer ID", description: "The answer's id." },
  model: { summary: "Model" },
  created: { summary: "Created" },
  message: { summary: "Message" },
  ...nested("message", MESSAGE),
  finish_reason: { summary: "Finish Reason" },
  ...nested("usage", USAGE),
  steps: { summary: "Server Tool Steps" },
  "steps[].tool_call": { summary: "Tool Call" },
  "steps[].tool_call.id": { summary: "Tool Call ID" },
  "steps[].tool_call.name": { summary: "Tool Name" },
  "steps[].tool_call.arguments": { summary: "Arguments" },
  "steps[].result": { summary: "Result" },
  "steps[].error": { summary: "Error" },
};

export const ASK_RESPONSE: Annotations = {
  id: { summary: "Answer ID", description: "The answer's id." },
  model: { summary: "Model" },
  created: { summary: "Created" },
  answer: { summary: "Answer" },
  parsed: { summary: "Parsed JSON" },
  messages: { summary: "Conversation" },
  "messages[].role": { summary: "Role" },
  "messages[].content": { summary: "Content" },
  finish_reason: { summary: "Finish Reason" },
  ...nested("usage", USAGE),
};

export const INFO: Annotations = {
  deployments: { summary: "Deployments" },
  "deployments[].alias": { summary: "Alias" },
  "deployments[].default": { summary: "Default" },
  "deployments[].model_name": { summary: "Model Name" },
  "deployments[].model_type": { summary: "Model Type" },
  "deployments[].model_provider_name": { summary: "Model Provider" },
  "deployments[].error": { summary: "Error" },
  "deployments[].error.code": { summary: "Error Code" },
  "deployments[].error.message": { summary: "Error Message" },
};
