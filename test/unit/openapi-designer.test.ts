import { describe, expect, it } from "vitest";
import { openApiDocument } from "../../src/openapi/document.js";

/**
 * Plays the Logic Apps designer on GET /api/openapi.json's document: for each operation a workflow author
 * sees (not `internal`), the inputs it shows (important first, then the rest, advanced last; internal ones
 * not at all; a body's fields as fields of their own) and the outputs it offers from the 200 answer. The
 * listing is kept as a snapshot (test/unit/__snapshots__/openapi-designer.txt), so a change to what a
 * workflow author sees is seen in review.
 */
const doc = openApiDocument({ host: "example.azurewebsites.net", scheme: "https" }) as any;
const METHODS = ["get", "post", "put", "patch", "delete"];
const RANK: Record<string, number> = { important: 0, advanced: 2 };
const rank = (schema: any) => RANK[schema["x-ms-visibility"]] ?? 1;

const resolve = (schema: any): any => (schema?.$ref ? doc.definitions[schema.$ref.replace("#/definitions/", "")] : schema);

interface Field {
  /** Where the value goes: `body.messages[].role`, `header x-allow-fallback`, `path id`. */
  where: string;
  label: string;
  schema: any;
  required: boolean;
  children: Field[];
}

interface DesignerOperation {
  operationId: string;
  method: string;
  path: string;
  operation: any;
  inputs: Field[];
  outputs: Field[];
}

/** A schema's fields as the designer shows them: internal ones left out, the rest by visibility (stable within each). */
function fields(schema: any, where: string, forInput: boolean): Field[] {
  const object = resolve(schema);
  const required: string[] = object?.required ?? [];
  return Object.entries<any>(object?.properties ?? {})
    .filter(([, property]) => !forInput || property["x-ms-visibility"] !== "internal")
    .sort(([, a], [, b]) => (forInput ? rank(a) - rank(b) : 0))
    .map(([name, property]) => {
      const path = `${where}.${name}`;
      const nested = property.type === "array" ? fields(property.items, `${path}[]`, forInput) : fields(property, path, forInput);
      return { where: path, label: property["x-ms-summary"], schema: property, required: required.includes(name), children: nested };
    });
}

function inputs(operation: any): Field[] {
  const all = (operation.parameters ?? [])
    .filter((parameter: any) => parameter["x-ms-visibility"] !== "internal")
    .flatMap((parameter: any) =>
      parameter.in === "body"
        ? fields(parameter.schema, "body", true)
        : [{ where: `${parameter.in} ${parameter.name}`, label: parameter["x-ms-summary"], schema: parameter, required: !!parameter.required, children: [] }],
    );
  return all.sort((a: Field, b: Field) => rank(a.schema) - rank(b.schema));
}

const operations: DesignerOperation[] = Object.entries<any>(doc.paths).flatMap(([path, item]) =>
  METHODS.filter((method) => item[method]).map((method) => {
    const operation = item[method];
    const ok = operation.responses[200];
    return {
      operationId: operation.operationId,
      method,
      path,
      operation,
      inputs: inputs(operation),
      outputs: ok?.schema ? fields(ok.schema, "body", false) : [],
    };
  }),
);
const visible = operations.filter(({ operation }) => operation["x-ms-visibility"] !== "internal");
const byId = (id: string) => operations.find((o) => o.operationId === id) as DesignerOperation;
const flat = (list: Field[]): Field[] => list.flatMap((field) => [field, ...flat(field.children)]);
const input = (id: string, where: string) => flat(byId(id).inputs).find((field) => field.where === where);
const output = (id: string, where: string) => flat(byId(id).outputs).find((field) => field.where === where);

function typeOf(schema: any): string {
  const s = resolve(schema);
  if (s.type === "array") return `array of ${typeOf(s.items)}`;
  if (s.enum) return `${s.type} ${s.enum.join("|")}`;
  return s.type ?? "any";
}

function line(field: Field, depth: number): string {
  const s = field.schema;
  const notes = [
    field.required ? "required" : undefined,
    s["x-nullable"] ? "nullable" : undefined,
    s["x-ms-visibility"],
    s.default !== undefined ? `default ${JSON.stringify(s.default)}` : undefined,
    s["x-ms-dynamic-values"]
      ? `picker: ${s["x-ms-dynamic-values"].operationId} ${s["x-ms-dynamic-values"]["value-collection"]}[].${s["x-ms-dynamic-values"]["value-path"]}`
      : undefined,
  ].filter(Boolean);
  return `${"  ".repeat(depth)}${field.label} <${field.where}> ${typeOf(s)}${notes.length > 0 ? ` (${notes.join(", ")})` : ""}`;
}

const lines = (list: Field[], depth: number): string[] => list.flatMap((field) => [line(field, depth), ...lines(field.children, depth + 1)]);

function listing(): string {
  return `${visible
    .map(({ operationId, method, path, operation, inputs: shown, outputs }) =>
      [
        `${operation.summary} [${operationId}: ${method.toUpperCase()} ${path}]${operation["x-ms-visibility"] ? ` (${operation["x-ms-visibility"]})` : ""}`,
        "  Inputs:",
        ...(shown.length > 0 ? lines(shown, 2) : ["    (none)"]),
        "  Outputs:",
        ...(outputs.length > 0 ? lines(outputs, 2) : ["    (none)"]),
      ].join("\n"),
    )
    .join("\n\n")}\n`;
}

describe("the designer's view of /api/openapi.json", () => {
  it("shows the chat, Ask, job and model operations, and hides health", () => {
    expect(visible.map((o) => o.operationId)).toEqual(["Ask", "Chat", "SubmitChatJob", "GetChatJob", "CancelChatJob", "GetModelInfo"]);
    expect(byId("GetHealth").operation["x-ms-visibility"]).toBe("internal");
    expect(Object.keys(doc.paths)).not.toContain("/chat/stream");
  });

  it("lists each operation's inputs important first and advanced last, every one labelled", () => {
    for (const { operationId, inputs: shown } of visible) {
      const walk = (list: Field[]) => {
        const ranks = list.map((field) => rank(field.schema));
        expect(ranks, operationId).toEqual([...ranks].sort((a, b) => a - b));
        for (const field of list) {
          expect(field.label, `${operationId} ${field.where}`).toEqual(expect.any(String));
          walk(field.children);
        }
      };
      walk(shown);
    }
    expect(
      byId("Chat")
        .inputs.slice(0, 2)
        .map((field) => field.where),
    ).toEqual(["body.messages", "body.model"]);
    expect(
      byId("Ask")
        .inputs.slice(0, 2)
        .map((field) => field.where),
    ).toEqual(["body.prompt", "body.model"]);
  });

  it("offers JSON mode with a schema on Ask, Chat and the chat job", () => {
    for (const id of ["Ask", "Chat", "SubmitChatJob"]) {
      const type = input(id, "body.response_format.type");
      expect(type?.schema.enum, id).toEqual(["text", "json_object", "json_schema"]);
      expect(
        type?.schema["x-ms-enum-values"].map((v: any) => v.displayName),
        id,
      ).toHaveLength(3);
      const schema = input(id, "body.response_format.json_schema.schema");
      expect(schema?.schema.type, id).toBe("object");
      expect(input(id, "body.response_format.json_schema.name")?.required, id).toBe(true);
    }
    expect(output("Chat", "body.message.parsed")?.schema.type).toBe("object");
    expect(output("Ask", "body.parsed")?.schema.type).toBe("object");
  });

  it("offers the model as a picker of the deployments GetModelInfo lists", () => {
    for (const id of ["Ask", "Chat", "SubmitChatJob"]) {
      const model = input(id, "body.model");
      expect(model?.schema["x-ms-visibility"], id).toBe("important");
      const picker = model?.schema["x-ms-dynamic-values"];
      expect(picker, id).toMatchObject({ "value-collection": "deployments", "value-path": "alias", "value-title": "alias" });
      const source = byId(picker.operationId);
      expect(source, id).toMatchObject({ method: "get", path: "/info" });
      expect((source.operation.parameters ?? []).filter((p: any) => p.required)).toEqual([]);
      const collection = output(picker.operationId, `body.${picker["value-collection"]}`);
      expect(collection?.schema.type).toBe("array");
      expect(output(picker.operationId, `body.${picker["value-collection"]}[].${picker["value-path"]}`)?.schema.type).toBe("string");
      expect(output(picker.operationId, `body.${picker["value-collection"]}[].${picker["value-title"]}`)?.schema.type).toBe("string");
    }
  });

  it("offers the timeout, fallback and Idempotency-Key headers as advanced inputs where the routes read them", () => {
    const headers = (id: string) =>
      byId(id)
        .inputs.filter((field) => field.where.startsWith("header "))
        .map((field) => [field.where, field.schema["x-ms-visibility"]]);
    const all = [
      ["header x-request-timeout-ms", "advanced"],
      ["header x-allow-fallback", "advanced"],
      ["header Idempotency-Key", "advanced"],
    ];
    expect(headers("Chat")).toEqual(all);
    expect(headers("Ask")).toEqual(all);
    // A job's model call does not run while the caller waits: its deadline is the job's own (JOB_TIMEOUT_MS).
    expect(headers("SubmitChatJob")).toEqual(all.slice(1));
  });

  it("offers no stream switch anywhere", () => {
    for (const { operationId } of operations) expect(input(operationId, "body.stream"), operationId).toBeUndefined();
  });

  it("offers Ask: a prompt in; the answer, its parsed JSON and the conversation out", () => {
    expect(input("Ask", "body.prompt")).toMatchObject({ required: true, schema: { "x-ms-visibility": "important", type: "string" } });
    expect(byId("Ask").outputs.map((field) => field.where)).toEqual(
      expect.arrayContaining(["body.answer", "body.parsed", "body.messages", "body.finish_reason", "body.usage"]),
    );
  });

  it("offers the chat answer's fields after the job is polled to its end, as after Chat", () => {
    const submit = byId("SubmitChatJob").operation;
    expect(Object.keys(submit.responses[202].headers)).toEqual(["Location", "Retry-After"]);
    expect(lines(byId("SubmitChatJob").outputs, 0)).toEqual(lines(byId("Chat").outputs, 0));
    expect(lines(byId("GetChatJob").outputs, 0)).toEqual(lines(byId("Chat").outputs, 0));
    expect(output("Chat", "body.finish_reason")?.schema.enum).toEqual(["stop", "length", "tool_calls", "content_filter"]);
    expect(output("Chat", "body.steps[].tool_call.name")?.schema.type).toBe("string");
  });

  it("keeps a readable snapshot of what a workflow author sees", async () => {
    await expect(listing()).toMatchFileSnapshot("./__snapshots__/openapi-designer.txt");
  });
});
