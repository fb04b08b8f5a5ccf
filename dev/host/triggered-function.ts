import { randomUUID } from "node:crypto";
import type { CoreApi, Registration, RpcBindingInfo } from "./core-api.js";
import type { FunctionsLibrary } from "./direct-invoker.js";

/** A registered function with a trigger of one type (a queue's, a timer's), and that binding's options. */
export interface TriggeredFunction {
  name: string;
  binding: RpcBindingInfo & Record<string, unknown>;
  trigger: RpcBindingInfo & { name: string };
  registration: Registration;
}

/** The app's functions triggered by `type` (`queueTrigger`, `timerTrigger`), as the worker registered them. */
export function triggeredFunctions(core: CoreApi, type: string): TriggeredFunction[] {
  return core.registrations.flatMap((registration) => {
    const found = Object.entries(registration.metadata.bindings).find(([, b]) => b.type?.toLowerCase() === type.toLowerCase());
    if (!found) return [];
    const [name, binding] = found;
    return [{ name: registration.metadata.name, binding: binding as TriggeredFunction["binding"], trigger: { ...binding, name }, registration }];
  });
}

/** Calls a triggered function with its input, through the library's own InvocationContext, logging as the host does. */
export async function invokeTriggered(
  core: CoreApi,
  library: FunctionsLibrary,
  fn: Pick<TriggeredFunction, "name" | "trigger" | "registration">,
  input: unknown,
  triggerMetadata: Record<string, unknown>,
): Promise<void> {
  const context = new library.InvocationContext({
    invocationId: randomUUID(),
    functionName: fn.name,
    triggerMetadata,
    options: { trigger: fn.trigger, extraInputs: [], extraOutputs: [] },
    logHandler: (level: string, ...args: unknown[]) => core.log(level as never, "user", `[${fn.name}] ${args.map(String).join(" ")}`),
  });
  await core.invoke(fn.registration.callback, context, [input]);
}
