import SwaggerParser from "@apidevtools/swagger-parser";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { jobPending } from "../../src/http/job-answers.js";
import { openApiDocument } from "../../src/openapi/document.js";

/**
 * The chat job operations in the OpenAPI document: what a Logic Apps designer needs to follow the
 * asynchronous pattern (202 with Location and Retry-After) and to show the final answer's fields (the
 * POST's 200 is the chat answer), and the same bodies and headers the job routes really answer.
 */
const doc = openApiDocument({ host: "localhost:7071", scheme: "http" }) as any;
const submit = doc.paths["/chat/jobs"]?.post;
const job = doc.paths["/chat/jobs/{id}"] ?? {};
const chatResponse = { $ref: "#/definitions/ChatResponse" };
const problem = { $ref: "#/definitions/Problem" };
const headerNames = (response: any) => Object.keys(response?.headers ?? {}).map((name) => name.toLowerCase());

/** The documented 202 schema, as Ajv can check an answer against it (x-ms-summary is not a keyword). */
const validator = (schema: unknown) => new Ajv({ strict: false }).compile(schema as object);

describe("the OpenAPI document's chat job operations", () => {
  it("keeps the document valid OpenAPI 2.0", async () => {
    await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeTruthy();
  });

  it("has submit, get and cancel, each with an operation id, a summary (its label), a description and the api-key security", () => {
    const operations = [
      [submit, "SubmitChatJob"],
      [job.get, "GetChatJob"],
      [job.delete, "CancelChatJob"],
    ] as const;
    for (const [operation, operationId] of operations) {
      expect(operation, operationId).toMatchObject({ operationId, security: [{ api_key: [] }] });
      expect(operation.summary, operationId).toEqual(expect.any(String));
      // Power Platform's schema takes no x-ms-summary on an operation: the summary is its label.
      expect(operation["x-ms-summary"], operationId).toBeUndefined();
      expect(operation.description, operationId).toEqual(expect.any(String));
    }
    const ids = Object.values<any>(doc.paths).flatMap((item) => Object.values<any>(item).map((operation) => operation.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("takes the /api/chat body and an optional Idempotency-Key on the POST", () => {
    expect(submit.parameters).toContainEqual(
      expect.objectContaining({ name: "body", in: "body", required: true, description: expect.any(String), schema: { $ref: "#/definitions/ChatRequest" } }),
    );
    expect(submit.parameters).toContainEqual(
      expect.objectContaining({ name: "Idempotency-Key", in: "header", required: false, type: "string", maxLength: 255 }),
    );
  });

  it("marks the POST asynchronous: 202 with Location and Retry-After, and the chat answer as its 200 for the action's outputs", () => {
    expect(submit.responses[200].schema).toEqual(chatResponse);
    expect(doc.definitions.ChatResponse.properties.message).toBeDefined();
    const accepted = submit.responses[202];
    expect(accepted.headers).toMatchObject({ Location: { type: "string" }, "Retry-After": { type: "integer" } });
    expect(accepted.schema.properties.status.enum).toEqual(["queued"]);
    expect(accepted.schema.required).toEqual(["id", "status", "created"]);
    for (const status of [400, 401, 413, 415, 422, 429, 503]) expect(submit.responses[status]?.schema, String(status)).toEqual(problem);
  });

  it("gives GET and DELETE the path parameter id", () => {
    for (const operation of [job.get, job.delete]) {
      expect(operation.parameters).toContainEqual(expect.objectContaining({ name: "id", in: "path", required: true, type: "string" }));
    }
  });

  it("answers GET with the chat answer when done, 202 with the status while pending, and the job problems", () => {
    expect(job.get.responses[200].schema).toEqual(chatResponse);
    const pending = job.get.responses[202];
    expect(pending.headers).toMatchObject({ Location: { type: "string" }, "Retry-After": { type: "integer" } });
    expect(pending.schema.properties.status.enum).toEqual(["queued", "running"]);
    expect(job.get.responses[404]).toMatchObject({ schema: problem, description: expect.stringContaining("job_not_found") });
    expect(job.get.responses[409]).toMatchObject({ schema: problem, description: expect.stringContaining("job_cancelled") });
  });

  it("answers DELETE with 204, or 404 job_not_found and 409 job_finished", () => {
    expect(job.delete.responses[204]).toEqual({ description: expect.any(String) });
    expect(job.delete.responses[404]).toMatchObject({ schema: problem, description: expect.stringContaining("job_not_found") });
    expect(job.delete.responses[409]).toMatchObject({ schema: problem, description: expect.stringContaining("job_finished") });
  });

  it("documents the 202s the job routes really answer: their bodies and headers", () => {
    const id = "6f0d2a4e-8c1b-4d3e-9f5a-0b1c2d3e4f5a";
    const location = `http://localhost:7071/api/chat/jobs/${id}`;
    const accepted = jobPending({ id, status: "queued", created: 1_700_000_000 }, location, 5);
    const running = jobPending({ id, status: "running" }, location, 5);
    for (const [answer, response] of [
      [accepted, submit.responses[202]],
      [running, job.get.responses[202]],
    ] as const) {
      const validate = validator(response.schema);
      expect(validate(answer.jsonBody), JSON.stringify(validate.errors)).toBe(true);
      expect(Object.keys(response.schema.properties).sort()).toEqual(Object.keys(answer.jsonBody as object).sort());
      expect(headerNames(response).sort()).toEqual(Object.keys(answer.headers as object).sort());
    }
  });
});
