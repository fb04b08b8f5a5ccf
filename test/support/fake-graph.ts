import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

type Json = Record<string, any>;

/**
 * The part of Microsoft Graph v1.0 the Entra hook uses, over HTTP, as Graph answers it: applications
 * addressed by `uniqueName` (PATCH with `Prefer: create-if-missing` creates, 201 with the object, or
 * updates, 204), by id, service principals by `appId`, and app role assignments. It checks what Graph
 * checks on these calls (a bearer token; a pre-authorised permission and an assigned role must exist)
 * and keeps every request.
 */
export class FakeGraph {
  readonly applications = new Map<string, Json>();
  readonly servicePrincipals = new Map<string, Json>();
  readonly assignments: Json[] = [];
  readonly requests: { method: string; path: string; body?: Json }[] = [];
  /** Answer every request with this status, as a tenant that refuses the user does. */
  refuseWith: number | undefined;
  #server = createServer((req, res) => void this.#handle(req, res));

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  application(uniqueName: string): Json | undefined {
    return [...this.applications.values()].find((app) => app.uniqueName === uniqueName);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = "";
    for await (const chunk of req) text += chunk;
    const body = text ? (JSON.parse(text) as Json) : undefined;
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://graph").pathname).replace(/^\/v1\.0/, "");
    const method = req.method ?? "GET";
    this.requests.push({ method, path, ...(body ? { body } : {}) });
    const send = (status: number, json?: unknown) => {
      res.writeHead(status, json === undefined ? {} : { "content-type": "application/json" }).end(json === undefined ? undefined : JSON.stringify(json));
    };
    const error = (status: number, code: string, message: string) => send(status, { error: { code, message } });
    if (!/^Bearer \S+$/.test(req.headers.authorization ?? "")) return error(401, "InvalidAuthenticationToken", "Access token is empty.");
    if (this.refuseWith) return error(this.refuseWith, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");

    const byUniqueName = /^\/applications\(uniqueName='([^']+)'\)$/.exec(path);
    if (byUniqueName) {
      const app = this.application(byUniqueName[1] as string);
      if (method === "GET") return app ? send(200, app) : error(404, "Request_ResourceNotFound", "Resource does not exist.");
      if (method === "PATCH") {
        if (app) {
          Object.assign(app, body);
          return send(204);
        }
        if (req.headers.prefer !== "create-if-missing") return error(404, "Request_ResourceNotFound", "Resource does not exist.");
        const created = { id: randomUUID(), appId: randomUUID(), uniqueName: byUniqueName[1], identifierUris: [], ...body };
        this.applications.set(created.id, created);
        return send(201, created);
      }
    }
    const byId = /^\/applications\/([0-9a-f-]+)$/.exec(path);
    if (byId && method === "PATCH") {
      const app = this.applications.get(byId[1] as string);
      if (!app) return error(404, "Request_ResourceNotFound", "Resource does not exist.");
      const scopes = new Set(((body?.api?.oauth2PermissionScopes ?? app.api?.oauth2PermissionScopes ?? []) as Json[]).map((s) => s.id));
      for (const pre of (body?.api?.preAuthorizedApplications ?? []) as Json[]) {
        if (!(pre.delegatedPermissionIds as string[]).every((id) => scopes.has(id))) {
          return error(400, "Request_BadRequest", "Property PreAuthorizedApplication references applications that cannot be found.");
        }
      }
      Object.assign(app, body);
      return send(204);
    }
    const principalByAppId = /^\/servicePrincipals\(appId='([^']+)'\)$/.exec(path);
    if (principalByAppId && method === "GET") {
      const principal = [...this.servicePrincipals.values()].find((p) => p.appId === principalByAppId[1]);
      return principal ? send(200, principal) : error(404, "Request_ResourceNotFound", "Resource does not exist.");
    }
    if (path === "/servicePrincipals" && method === "POST") {
      if (![...this.applications.values()].some((app) => app.appId === body?.appId)) return error(400, "Request_BadRequest", "The appId does not exist.");
      const principal = { id: randomUUID(), appId: body?.appId };
      this.servicePrincipals.set(principal.id, principal);
      return send(201, principal);
    }
    const assignedTo = /^\/servicePrincipals\/([0-9a-f-]+)\/appRoleAssignedTo$/.exec(path);
    if (assignedTo) {
      const principal = this.servicePrincipals.get(assignedTo[1] as string);
      if (!principal) return error(404, "Request_ResourceNotFound", "Resource does not exist.");
      if (method === "GET") return send(200, { value: this.assignments.filter((a) => a.resourceId === principal.id) });
      if (method === "POST") {
        const app = [...this.applications.values()].find((a) => a.appId === principal.appId);
        if (!(app?.appRoles as Json[] | undefined)?.some((role) => role.id === body?.appRoleId)) {
          return error(400, "Request_BadRequest", "Permission being assigned was not found on application.");
        }
        const assignment = { id: randomUUID(), ...body };
        this.assignments.push(assignment);
        return send(201, assignment);
      }
    }
    return error(400, "BadRequest", `The fake does not serve ${method} ${path}.`);
  }
}
