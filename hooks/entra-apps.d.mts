export declare const CHAT_ROLE: string;
export declare const CHAT_SCOPE: string;

export interface Graph {
  get(path: string): Promise<any>;
  post(path: string, body: unknown): Promise<any>;
  patch(path: string, body: unknown, headers?: Record<string, string>): Promise<any>;
}

export declare function appNames(environmentName: string): { api: string; web: string };

export declare function stableId(text: string): string;

export declare function graphClient(options: {
  credential: { getToken(scope: string): Promise<{ token: string } | null> };
  endpoint?: string;
  fetch?: typeof fetch;
}): Graph;

export declare function ensureEntraApps(
  graph: Graph,
  options: { environmentName: string; webOrigin?: string; principalId?: string },
): Promise<{ apiClientId: string; webClientId: string; scope: string; assigned: boolean }>;

export declare function entraAppsStep(
  env: Readonly<Record<string, string | undefined>>,
  options: { graph: Graph; log?: (line: string) => void },
): Promise<Record<string, string>>;

export declare function runEntraAppsHook(env?: Readonly<Record<string, string | undefined>>): Promise<void>;
