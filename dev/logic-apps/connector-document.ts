import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { openApiDocument } from "../../src/openapi/document.js";

/**
 * infra/logic-apps/connector.openapi.json: the document GET /api/openapi.json serves, as the Bicep of the
 * custom connector loads it (it replaces `host` with the deployment's). A test keeps the file identical
 * to what the app serves; `npm run connector:write` writes it again after the contract changes.
 */
export const CONNECTOR_DOCUMENT = "infra/logic-apps/connector.openapi.json";

export function connectorDocument(): string {
  return `${JSON.stringify(openApiDocument({ host: "localhost", scheme: "https", basePath: "/api" }), null, 2)}\n`;
}

if (process.argv[1]?.endsWith("connector-document.js")) {
  const path = resolve(process.cwd(), CONNECTOR_DOCUMENT);
  writeFileSync(path, connectorDocument());
  console.log(`wrote ${CONNECTOR_DOCUMENT}`);
}
