import type { ValidateFunction } from "ajv";
import type { AppConfig } from "../config/index.js";
import type { ChatCompletionsBody, ExtraParametersMode, ModelMeter, ModelPort, ModelRegistry } from "../inference/index.js";
import { HttpProblem, tooManyTokens, unknownModel } from "../lib/problem.js";
import type { ToolRegistry } from "../tools/tool-registry.js";
import { ToolSession } from "../tools/tool-session.js";
import { outputValidator } from "./json-output.js";
import type { ChatRequest } from "./schema.js";
import { toWireRequest } from "./to-wire.js";
import { ToolCallIds } from "./tool-call-ids.js";
import { validateChatRequest } from "./validate-request.js";

/** Everything a chat route needs to call the model, checked before anything is sent. */
export interface PreparedChat {
  request: ChatRequest;
  port: ModelPort;
  ids: ToolCallIds;
  body: ChatCompletionsBody;
  extraParameters: ExtraParametersMode | undefined;
  validateOutput: ValidateFunction | undefined;
  /** The server-run tools, when the request names some. */
  tools: ToolSession | undefined;
  /** The caller's quotas, for every model call the request makes. */
  meter: ModelMeter | undefined;
  /** Who asks, for the deployments' circuits. */
  callerId: string;
}

/** What preparing a chat needs: the deployments, the server tools, and the limits of both. */
export interface ChatRuntime {
  models: ModelRegistry;
  tools: ToolRegistry;
  config: Pick<AppConfig, "maxTokens" | "tools" | "chat">;
}

/** Checks an app-contract body and gets everything ready to call the model; a 4xx problem for a bad body. */
export async function prepareChat(body: unknown, runtime: ChatRuntime, caller: { meter: ModelMeter | undefined; callerId: string }): Promise<PreparedChat> {
  const models = runtime.models;
  const request = await validateChatRequest(body, runtime.config.chat);
  if (request.max_tokens !== undefined && request.max_tokens > runtime.config.maxTokens) throw tooManyTokens(runtime.config.maxTokens);
  const validateOutput = outputValidator(request);
  const tools = toolSession(request, runtime);
  const port = models.find(request.model);
  if (!port) {
    throw unknownModel(request.model, models.aliases);
  }
  const ids = new ToolCallIds();
  const wire = toWireRequest(request, ids);
  return { request, port, ids, body: wire.body, extraParameters: wire.extraParameters, validateOutput, tools, ...caller };
}

function toolSession(request: ChatRequest, runtime: ChatRuntime): ToolSession | undefined {
  if (!request.server_tools) return undefined;
  request.server_tools.forEach((name, index) => {
    if (!runtime.tools.has(name)) {
      throw new HttpProblem({
        status: 400,
        code: "invalid_request",
        title: "Bad Request",
        detail: `server_tools[${index}]: there is no server tool named ${name}. Available: ${runtime.tools.names.join(", ")}.`,
        extensions: {
          param: `server_tools[${index}]`,
          rule: "enum",
        },
      });
    }
  });
  return new ToolSession(runtime.tools, request.server_tools, runtime.config.tools);
}
