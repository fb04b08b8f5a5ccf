import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import Ajv04 from "ajv-draft-04";
import { describe, expect, it } from "vitest";
import type { Node } from "web-tree-sitter";
import { CONNECTOR_DOCUMENT, connectorDocument } from "../../../dev/logic-apps/connector-document.js";
import { validateChatRequest } from "../../../src/chat/validate-request.js";
import { REPO_ROOT, valueAt } from "./support/bicep.js";
import { AZD_ENV, azdParameters, deploy } from "./support/deployment.js";
import { evaluate } from "./support/evaluate.js";

/**
 * The Logic Apps sample azd deploys (infra/modules/logic-apps-sample.bicep, logic-apps-connector.bicep): its
 * workflow definition against the Workflow Definition Language schema, the key kept out of it, and the custom
 * connector made from the document the app serves.
 */
const DEFINITION_FILE = resolve(REPO_ROOT, "infra/logic-apps/summarise-document.workflow.json");
const definition = JSON.parse(readFileSync(DEFINITION_FILE, "utf8"));

/**
 * The published schema (test/fixtures/logic-apps, from 2016) with the one HTTP authentication Logic Apps has
 * documented since, a managed identity ("Authentication types for triggers and actions that support
 * authentication": `type` ManagedServiceIdentity, an optional user-assigned `identity`, and the `audience`).
 * Nothing else is changed, so everything else the sample writes is held to the schema as published.
 */
function workflowDefinitionSchema(): Record<string, unknown> {
  const schema = JSON.parse(readFileSync(resolve(REPO_ROOT, "test/fixtures/logic-apps/workflowdefinition.json"), "utf8"));
  delete schema.$id; // draft-04 says `id`; the published file's `$id` would only be an unknown keyword
  let added = 0;
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (!value || typeof value !== "object") return;
    for (const [key, child] of Object.entries(value)) {
      if (key === "authentication" && Array.isArray((child as { oneOf?: unknown[] }).oneOf)) {
        (child as { oneOf: unknown[] }).oneOf.push({
          type: "object",
          properties: { type: { enum: ["ManagedServiceIdentity"] }, identity: { type: "string" }, audience: { type: "string" } },
          required: ["type"],
          additionalProperties: false,
        });
        added++;
      }
      visit(child);
    }
  };
  visit(schema);
  expect(added, "the schema's HTTP authentication").toBe(1);
  return schema;
}

// The published schema has a typo'd keyword or two and union types: not strict, every error listed.
const validate = new Ajv04({ strict: false, allErrors: true, validateFormats: false }).compile(workflowDefinitionSchema());
const errorsOf = (candidate: unknown) => (validate(candidate) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));
const copy = () => structuredClone(definition);

describe("the sample workflow's definition", () => {
  it("validates against the Workflow Definition Language schema", () => {
    expect(errorsOf(definition)).toEqual([]);
  });

  it("is refused by the schema when it is wrong: an unknown action type, a status runAfter cannot have, a Response without a status", () => {
    const misspelt = copy();
    misspelt.actions.Summarise.type = "Htttp";
    expect(errorsOf(misspelt).length).toBeGreaterThan(0);
    const status = copy();
    status.actions.Respond.runAfter.Summarise = ["Finished"];
    expect(errorsOf(status).length).toBeGreaterThan(0);
    const noStatus = copy();
    delete noStatus.actions.Respond.inputs.statusCode;
    expect(errorsOf(noStatus).length).toBeGreaterThan(0);
    const authentication = copy();
    authentication.actions.Read_caller_key.inputs.authentication.type = "ManagedIdentity";
    expect(errorsOf(authentication).length).toBeGreaterThan(0);
  });

  it("reads its key from Key Vault with its managed identity, and never shows it in the run history", () => {
    const read = definition.actions.Read_caller_key;
    expect(read.type).toBe("Http");
    expect(read.inputs).toMatchObject({
      method: "GET",
      uri: "@{parameters('callerKeySecretUri')}?api-version=7.5",
      authentication: { type: "ManagedServiceIdentity", audience: "https://vault.azure.net" },
    });
    expect(read.runtimeConfiguration.secureData.properties).toContain("outputs");
    const summarise = definition.actions.Summarise;
    expect(summarise.inputs.headers["api-key"]).toBe("@{body('Read_caller_key')?['value']}");
    expect(summarise.runtimeConfiguration.secureData.properties).toContain("inputs");
    // Nothing in the definition is a key: its parameters are two URLs, and no header holds a literal.
    expect(Object.keys(definition.parameters)).toEqual(["apiBaseUrl", "callerKeySecretUri"]);
    for (const [name, value] of Object.entries<string>(summarise.inputs.headers)) {
      if (name !== "Content-Type") expect(value, name).toMatch(/^@\{.+\}/);
    }
  });

  it("posts a chat job the app accepts, once per run however often Logic Apps retries it", async () => {
    const summarise = definition.actions.Summarise;
    expect(summarise.inputs.method).toBe("POST");
    expect(summarise.inputs.uri).toBe("@{parameters('apiBaseUrl')}/chat/jobs");
    expect(summarise.inputs.headers["Idempotency-Key"]).toBe("@{workflow().run.name}-summarise");
    // The body with each expression as the text it yields: a request the app's own contract takes.
    const body = JSON.parse(JSON.stringify(summarise.inputs.body).replace(/"@\{[^"]*\}"/g, '"text"'));
    await expect(validateChatRequest(body, { maxMessageBytes: 1 << 20 })).resolves.toMatchObject({ messages: [{ role: "system" }, { role: "user" }] });
    // The async pattern is left on (the default), so the action follows the job's Location to its answer.
    expect(summarise.operationOptions ?? "").not.toContain("DisableAsyncPattern");
  });

  it("answers with the summary, or with the app's problem when the job failed or could not start", () => {
    expect(definition.actions.Respond.inputs.body.summary).toBe("@body('Summarise')?['message']?['content']");
    expect([...definition.actions.Respond_with_problem.runAfter.Summarise].sort()).toEqual(["Failed", "Skipped", "TimedOut"]);
  });
});

describe("the sample in the deployment", () => {
  async function sampleResources(env = AZD_ENV) {
    const deployment = await deploy(azdParameters(env));
    return deployment.resources.filter((r) => r.decl.type === "Microsoft.Logic/workflows" || r.decl.type === "Microsoft.Web/customApis");
  }

  it("is on in the sample environment (main.parameters.json) and off where the template is used without it", async () => {
    expect(azdParameters().logicAppsSample).toBe("on");
    expect((await sampleResources()).map((r) => r.decl.type).sort()).toEqual(["Microsoft.Logic/workflows", "Microsoft.Web/customApis"]);
    expect(await sampleResources({ ...AZD_ENV, LOGIC_APPS_SAMPLE: "off" })).toEqual([]);
  });

  it("gives the workflow the definition file, the API on the app's host and the secret's URI, and no key", async () => {
    const workflow = (await sampleResources()).find((r) => r.decl.type === "Microsoft.Logic/workflows");
    if (!workflow) throw new Error("no workflow");
    const props = evaluate(valueAt(workflow.decl.body, "properties") as Node, workflow.scope) as Record<string, any>;
    expect(props.definition).toEqual(definition);
    expect(props.parameters.apiBaseUrl.value).toMatch(/^https:\/\/func-api-[a-z0-9]{13}\.azurewebsites\.net\/api$/);
    expect(Object.keys(props.parameters)).toEqual(["apiBaseUrl", "callerKeySecretUri"]);
    expect(JSON.stringify(props.parameters.callerKeySecretUri.value)).toContain("secrets/logic-apps-sample-key");
  });

  it("makes the connector from the document the app serves, pointed at this deployment", async () => {
    expect(readFileSync(resolve(REPO_ROOT, CONNECTOR_DOCUMENT), "utf8"), "run `npm run connector:write`").toBe(connectorDocument());
    const connector = (await sampleResources()).find((r) => r.decl.type === "Microsoft.Web/customApis");
    if (!connector) throw new Error("no connector");
    const props = evaluate(valueAt(connector.decl.body, "properties") as Node, connector.scope) as Record<string, any>;
    const served = JSON.parse(connectorDocument());
    expect(props.swagger).toEqual({
      ...served,
      host: expect.stringMatching(/^func-api-[a-z0-9]{13}\.azurewebsites\.net$/),
      basePath: "/api",
      schemes: ["https"],
    });
    expect(props.backendService.serviceUrl).toBe(`https://${props.swagger.host}/api`);
    // The connection asks for the key the document's security definition names.
    expect(Object.keys(props.connectionParameters)).toEqual(Object.keys(served.securityDefinitions));
    expect(props.connectionParameters.api_key.type).toBe("securestring");
  });
});
