import Module from "node:module";

/**
 * What the Azure Functions Node.js worker gives `@azure/functions` as the module
 * `@azure/functions-core`: the seam where the library registers functions, hooks and its
 * programming model. The local host provides it so that the app's own `app.http(...)` calls, run by
 * the real library, are what it serves.
 */
export interface RpcBindingInfo {
  type?: string;
  direction?: string;
  name?: string;
  route?: string;
  methods?: string[];
  authLevel?: string;
  [key: string]: unknown;
}

export interface FunctionMetadata {
  name: string;
  bindings: Record<string, RpcBindingInfo>;
}

export type FunctionCallback = (...args: unknown[]) => unknown;
export type HookCallback = (context: Record<string, unknown>) => unknown;

export interface InvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], handler: FunctionCallback): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<unknown>;
}

export interface ProgrammingModel {
  name: string;
  version: string;
  getInvocationModel(coreCtx: Record<string, unknown>): InvocationModel;
  getCapabilities(capabilities: Record<string, string>): Promise<Record<string, string>>;
}

export interface Registration {
  metadata: FunctionMetadata;
  callback: FunctionCallback;
}

export type LogLevel = "trace" | "debug" | "information" | "warning" | "error" | "critical" | "none";

class Disposable {
  constructor(private readonly onDispose: () => void) {}
  dispose(): void {
    this.onDispose();
  }
}

export class CoreApi {
  readonly registrations: Registration[] = [];
  readonly hooks = new Map<string, HookCallback[]>();
  programmingModel: ProgrammingModel | undefined;

  constructor(readonly log: (level: LogLevel, category: string, message: string) => void) {}

  /** The module object `require('@azure/functions-core')` returns. */
  get module(): Record<string, unknown> {
    return {
      setProgrammingModel: (model: ProgrammingModel) => {
        this.programmingModel = model;
      },
      getProgrammingModel: () => this.programmingModel,
      registerFunction: (metadata: FunctionMetadata, callback: FunctionCallback) => {
        if (this.registrations.some((r) => r.metadata.name === metadata.name)) {
          throw new Error(`A function with the name "${metadata.name}" has already been registered.`);
        }
        const registration = { metadata, callback };
        this.registrations.push(registration);
        return new Disposable(() => this.registrations.splice(this.registrations.indexOf(registration), 1));
      },
      registerHook: (name: string, callback: HookCallback) => {
        const list = this.hooks.get(name) ?? [];
        list.push(callback);
        this.hooks.set(name, list);
        return new Disposable(() => list.splice(list.indexOf(callback), 1));
      },
      log: this.log,
      Disposable,
    };
  }

  async runHooks(name: string, context: Record<string, unknown>): Promise<void> {
    for (const hook of [...(this.hooks.get(name) ?? [])]) await hook(context);
  }

  /**
   * Calls a function as the worker does, between the app's pre- and post-invocation hooks (which may
   * change its inputs, its callback, its result or its error); throws the error the hooks leave.
   */
  async invoke(callback: FunctionCallback, context: unknown, inputs: unknown[]): Promise<unknown> {
    const pre = { hookData: {}, invocationContext: context, inputs, functionCallback: callback };
    await this.runHooks("preInvocation", pre);
    let result: unknown;
    let error: unknown;
    try {
      result = await pre.functionCallback(...pre.inputs, context);
    } catch (thrown) {
      error = thrown;
    }
    const post = { hookData: pre.hookData, invocationContext: context, inputs: pre.inputs, result, error };
    await this.runHooks("postInvocation", post);
    if (post.error) throw post.error;
    return post.result;
  }

  /** Makes `require('@azure/functions-core')` answer with this API, as the worker does. */
  install(): void {
    const api = this.module;
    const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
    const original = loader._load;
    loader._load = function (request: string, ...rest: unknown[]) {
      return request === "@azure/functions-core" ? api : original.call(this, request, ...rest);
    };
  }
}
