import type { IncomingMessage, ServerResponse } from "node:http";
import type { Registration, RpcBindingInfo } from "./core-api.js";
import { type CompiledRoute, compileRoute } from "./route-template.js";

/** A registered function with an HTTP trigger, as the host routes to it. */
export interface HttpFunction {
  registration: Registration;
  name: string;
  trigger: RpcBindingInfo & { name: string };
  route: CompiledRoute;
  methods: Set<string> | undefined;
  authLevel: string;
}

/** Runs one invocation of `fn` for `req` and writes its answer to `res`. */
export interface Invoker {
  invoke(fn: HttpFunction, params: Record<string, string>, invocationId: string, req: IncomingMessage, res: ServerResponse): Promise<void>;
}

export function toHttpFunction(registration: Registration, prefix: string): HttpFunction | undefined {
  const trigger = Object.entries(registration.metadata.bindings).find(([, b]) => b.type?.toLowerCase() === "httptrigger");
  if (!trigger) return undefined;
  const [name, binding] = trigger;
  const route = binding.route ?? registration.metadata.name;
  return {
    registration,
    name: registration.metadata.name,
    trigger: { ...binding, name },
    route: compileRoute([prefix, route].filter((s) => s !== "").join("/")),
    methods: binding.methods ? new Set(binding.methods.map((m) => m.toUpperCase())) : undefined,
    // The v4 library writes authLevel into every HTTP trigger (anonymous when unset); metadata without
    // one comes from elsewhere, and the Functions host treats that as function level.
    authLevel: (binding.authLevel ?? "function").toLowerCase(),
  };
}

/** Request headers as one string per name, as the Functions host passes them on. */
export function flatHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}
