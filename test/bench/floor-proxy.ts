import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { AzureKeyCredential } from "@azure/core-auth";
import { HttpRequest, InvocationContext } from "@azure/functions";
import { Agent, request } from "undici";
import { type DeploymentConfig, Secret } from "../../src/config/index.js";
import { createModelClient } from "../../src/inference/model-client.js";
import { UndiciHttpClient } from "../../src/inference/undici-http-client.js";

/**
 * `node dist/test/bench/floor-proxy.js`: the least a proxy of the drop-in route can cost on this
 * machine, for the bench to set the app's figures against. It forwards the JSON body of every POST to
 * the deployment and answers with the model's JSON, and nothing else: no keys, validation, limits,
 * fallback or error mapping. FLOOR_MODE picks what it is built from:
 * - `node`: Node's HTTP server and undici, the bare minimum;
 * - `platform`: what the app cannot do without: the Functions library's request objects (a web
 *   Request under HttpRequest, as the host hands every invocation) and the model SDK's client over
 *   the app's transport.
 * Settings: PORT, FLOOR_MODE, FLOOR_ENDPOINT (the deployment's endpoint), FLOOR_KEY.
 */
const mode = process.env.FLOOR_MODE;
const endpoint = process.env.FLOOR_ENDPOINT ?? "";
const key = process.env.FLOOR_KEY ?? "";

type Forward = (req: IncomingMessage) => Promise<unknown>;

function nodeForward(): Forward {
  const agent = new Agent({ keepAliveTimeout: 30_000 });
  return async (req) => {
    const body = JSON.parse((await readAll(req)).toString("utf8"));
    const response = await request(`${endpoint}/chat/completions`, {
      method: "POST",
      dispatcher: agent,
      headers: { "content-type": "application/json", "api-key": key },
      body: JSON.stringify(body),
    });
    return response.body.json();
  };
}

function platformForward(): Forward {
  const deployment: DeploymentConfig = {
    alias: "floor",
    endpoint,
    model: "floor",
    api: "model-inference",
    apiVersion: "2025-04-01",
    credential: { kind: "key", key: new Secret(key) },
  };
  const client = createModelClient(deployment, new AzureKeyCredential(key), undefined, new UndiciHttpClient({ outerTimeoutMs: 60_000 }));
  return async (req) => {
    const nativeRequest = new Request(`http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`, {
      method: req.method,
      headers: req.headers as Record<string, string>,
      body: await readAll(req),
      duplex: "half",
    } as RequestInit);
    const request = new HttpRequest({ nativeRequest, params: {} } as never);
    new InvocationContext({ invocationId: "floor", functionName: "floor", options: { trigger: {}, extraInputs: [], extraOutputs: [] } } as never);
    const response = await client.path("/chat/completions").post({ body: (await request.json()) as never });
    return response.body;
  };
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

if (mode !== "node" && mode !== "platform") throw new Error("FLOOR_MODE must be node or platform.");
const forward = mode === "node" ? nodeForward() : platformForward();
createServer((req: IncomingMessage, res: ServerResponse) => {
  forward(req).then(
    (answer) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer)),
    () => res.writeHead(502, { "content-length": 0 }).end(),
  );
}).listen(Number(process.env.PORT), "127.0.0.1", () => console.log("floor proxy listening"));
