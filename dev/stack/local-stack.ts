import { join } from "node:path";
import { CHAT_ROLE, LOCAL_API_CLIENT_ID, LOCAL_SPA_CLIENT_ID, LOCAL_TENANT_ID, LocalIssuer, type StartedIssuer } from "../oidc/local-issuer.js";
import { startPageServer } from "../web/page-server.js";
import { type AzuritePorts, azuriteConnectionString, DEFAULT_AZURITE_PORTS } from "./local-settings.js";
import { answers, portIsFree, type Service, spawnService, waitUntilReady } from "./processes.js";

export interface StackOptions {
  /** The project root, holding the build in dist/. */
  appRoot: string;
  ports: { host: number; emulator: number; azurite: AzuritePorts; web?: WebPorts };
  /** App settings as in local.settings*.json; endpoints and storage are pointed at this stack. */
  settings: Record<string, string>;
  /** Extra environment for the emulator (EMULATOR_TTFT_MS, EMULATOR_SCENARIOS, ...). */
  emulatorEnv?: Record<string, string>;
  /** Print every service's output, prefixed with its name. */
  echo: boolean;
  /** Called when a service exits while the stack is running (not when stop() stops it). */
  onUnexpectedExit?: (service: Service, code: number | null) => void;
}

/** The chat page (dist/web) and the local OpenID Connect issuer its users sign in with. */
export interface WebPorts {
  page: number;
  issuer: number;
}

export interface LocalStack {
  hostUrl: string;
  /** The chat page, when `ports.web` was given. */
  pageUrl?: string;
  /** The local issuer the page signs users in with, when `ports.web` was given. */
  issuer?: StartedIssuer;
  emulatorUrl: string;
  storageConnectionString: string;
  /** The app settings the host runs with. */
  settings: Record<string, string>;
  /** Whether this stack started Azurite or found one already listening. */
  startedAzurite: boolean;
  services: Service[];
  stop(): Promise<void>;
}

const EMULATOR_DEFAULT_ORIGIN = "http://localhost:7072";
const EMULATOR_DEFAULT_KEY = "emulator-key";

/**
 * Starts Azurite (unless one already listens on the table port), the model emulator and the local
 * functions host, each as its own process, and waits until all three answer.
 */
export async function startLocalStack(options: StackOptions): Promise<LocalStack> {
  const { appRoot, ports, echo } = options;
  const services: Service[] = [];
  const closers: (() => Promise<void>)[] = [];
  let stopping = false;
  const stop = async () => {
    stopping = true;
    await Promise.all([...services].reverse().map((s) => s.stop()));
    await Promise.all(closers.map((close) => close()));
  };
  const started = (service: Service) => {
    services.push(service);
    service.child.once("exit", (code) => {
      if (!stopping) options.onUnexpectedExit?.(service, code);
    });
    return service;
  };
  try {
    const emulatorUrl = `http://localhost:${ports.emulator}`;
    const storageConnectionString = sameAzuritePorts(ports.azurite, DEFAULT_AZURITE_PORTS)
      ? "UseDevelopmentStorage=true"
      : azuriteConnectionString(ports.azurite);

    const tableUrl = `http://127.0.0.1:${ports.azurite.table}/devstoreaccount1?restype=service&comp=properties`;
    const azuriteRunning = await answers(tableUrl).catch(() => false);
    if (!azuriteRunning) {
      const azurite = spawnService(
        "azurite",
        [
          join(appRoot, "node_modules", "azurite", "dist", "src", "azurite.js"),
          "--silent",
          "--inMemoryPersistence",
          "--extentMemoryLimit",
          "256",
          "--disableTelemetry",
          "--skipApiVersionCheck",
          "--blobPort",
          String(ports.azurite.blob),
          "--queuePort",
          String(ports.azurite.queue),
          "--tablePort",
          String(ports.azurite.table),
        ],
        { env: process.env, echo, cwd: appRoot },
      );
      started(azurite);
      await waitUntilReady(azurite, () => answers(tableUrl));
    }

    await requireFreePort(ports.emulator, "the model emulator", "EMULATOR_PORT");
    const emulator = started(
      spawnService("emulator", [join(appRoot, "dist", "dev", "emulator", "main.js")], {
        env: { ...process.env, ...options.emulatorEnv, EMULATOR_PORT: String(ports.emulator) },
        echo,
      }),
    );
    await waitUntilReady(emulator, () => answers(`${emulatorUrl}/_emulator/health`));

    let settings = pointAtStack(options.settings, emulatorUrl, storageConnectionString, options.emulatorEnv?.EMULATOR_KEY);
    let issuer: StartedIssuer | undefined;
    const pageOrigin = ports.web ? `http://localhost:${ports.web.page}` : undefined;
    if (ports.web && pageOrigin) {
      await requireFreePort(ports.web.issuer, "the local sign-in issuer", "ISSUER_PORT");
      const local = new LocalIssuer({ redirectUris: [`${pageOrigin}/`], port: ports.web.issuer });
      issuer = await local.start();
      closers.push(() => local.close());
      settings = { ...settings, ...signedInUserSettings(issuer, pageOrigin, settings.CORS_ALLOWED_ORIGINS) };
    }
    await requireFreePort(ports.host, "the functions host", "PORT");
    const host = started(
      spawnService("functions", [join(appRoot, "dist", "dev", "host", "main.js"), appRoot], {
        env: { ...process.env, ...settings, PORT: String(ports.host) },
        echo,
        cwd: appRoot,
      }),
    );
    const hostUrl = `http://localhost:${ports.host}`;
    await waitUntilReady(host, () => answers(`${hostUrl}/api/health`));

    let pageUrl: string | undefined;
    if (ports.web && issuer && pageOrigin) {
      await requireFreePort(ports.web.page, "the chat page", "WEB_PORT");
      const page = await startPageServer({
        dir: join(appRoot, "dist", "web"),
        port: ports.web.page,
        config: {
          apiBaseUrl: `${hostUrl}/api`,
          clientId: LOCAL_SPA_CLIENT_ID,
          authority: issuer.msalAuthority,
          knownAuthorities: [issuer.host],
          scopes: [`api://${LOCAL_API_CLIENT_ID}/Chat`],
        },
        connectTo: [hostUrl, `https://${issuer.host}`],
      });
      closers.push(() => page.close());
      pageUrl = page.url;
    }

    return {
      hostUrl,
      ...(pageUrl ? { pageUrl } : {}),
      ...(issuer ? { issuer } : {}),
      emulatorUrl,
      storageConnectionString,
      settings,
      startedAzurite: !azuriteRunning,
      services,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * The host's settings for the page's signed-in users: the local issuer's tenant, API and authority (its CA
 * trusted by the host, which fetches its keys over HTTPS), and the page's origin allowed by CORS.
 */
function signedInUserSettings(issuer: StartedIssuer, pageOrigin: string, origins: string | undefined): Record<string, string> {
  return {
    ENTRA_TENANT_ID: LOCAL_TENANT_ID,
    ENTRA_API_AUDIENCE: `${LOCAL_API_CLIENT_ID},api://${LOCAL_API_CLIENT_ID}`,
    ENTRA_CHAT_ROLE: CHAT_ROLE,
    ENTRA_AUTHORITY: issuer.authority,
    NODE_EXTRA_CA_CERTS: issuer.caFile,
    CORS_ALLOWED_ORIGINS: [...(origins ? origins.split(",") : []), pageOrigin]
      .map((o) => o.trim())
      .filter(Boolean)
      .join(","),
  };
}

/** Points settings that name the default local stack at this one's actual ports and emulator key. */
function pointAtStack(settings: Record<string, string>, emulatorUrl: string, storage: string, emulatorKey?: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(settings).map(([name, value]) => {
      if (name === "AzureWebJobsStorage" && value === "UseDevelopmentStorage=true") return [name, storage];
      if (emulatorKey && value === EMULATOR_DEFAULT_KEY) return [name, emulatorKey];
      return [name, value.startsWith(EMULATOR_DEFAULT_ORIGIN) ? emulatorUrl + value.slice(EMULATOR_DEFAULT_ORIGIN.length) : value];
    }),
  );
}

/** A service must own its port: otherwise whatever already listens there would pass for it. */
async function requireFreePort(port: number, what: string, setting: string): Promise<void> {
  if (!(await portIsFree(port))) {
    throw new Error(`Port ${port}, for ${what}, is already in use. Stop what listens there or set ${setting} to another port.`);
  }
}

function sameAzuritePorts(a: AzuritePorts, b: AzuritePorts): boolean {
  return a.blob === b.blob && a.queue === b.queue && a.table === b.table;
}
