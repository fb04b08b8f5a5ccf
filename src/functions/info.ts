import { app } from "@azure/functions";
import { callerHandler } from "../http/handler.js";
import { isModelError } from "../lib/model-error.js";
import { HttpProblem } from "../lib/problem.js";
import { getRuntime } from "../runtime.js";

/**
 * The seed's `/info` for every configured deployment, cached. A deployment that cannot answer is
 * listed with its error; only when none can is the whole answer a 502.
 */
export const info = callerHandler(
  getRuntime(),
  async (_request, { runtime }) => {
    const ports = runtime.models.all();
    const deployments = await Promise.all(
      ports.map(async (port, index) => {
        const base = { alias: port.alias, default: index === 0 };
        try {
          return { ...base, ...(await runtime.modelInfo.get(port)) };
        } catch (error) {
          const code = isModelError(error) ? error.code : "upstream_unreachable";
          const message = isModelError(error) ? error.message : "The model endpoint could not be reached.";
          return { ...base, error: { code, message } };
        }
      }),
    );
    if (deployments.every((d) => "error" in d)) {
      throw new HttpProblem({
        status: 502,
        code: "upstream_unavailable",
        title: "Bad Gateway",
        detail: "No model deployment answered its /info request.",
        extensions: { deployments },
      });
    }
    return { status: 200, jsonBody: { deployments } };
  },
  { methods: ["GET"] },
);

app.http("info", { route: "info", methods: ["GET", "OPTIONS"], authLevel: "anonymous", handler: info });
