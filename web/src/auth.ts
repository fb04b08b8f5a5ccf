import { type AccountInfo, InteractionRequiredAuthError, PublicClientApplication } from "@azure/msal-browser";

/** What the page is told about its sign-in (`/config.json`, written by `npm start` locally and by azd in Azure). */
export interface PageConfig {
  /** The app's API, e.g. `https://<app>.azurewebsites.net/api`. */
  apiBaseUrl: string;
  /** The page's app registration (a single-page application). */
  clientId: string;
  /** `https://login.microsoftonline.com/<tenant>` in Azure; the local issuer's `https://localhost:4281/<tenant>` locally. */
  authority: string;
  /** Hosts MSAL may trust as authorities without asking Microsoft's instance discovery (the local issuer's). */
  knownAuthorities?: string[];
  /** The API's scope, e.g. `api://<api client id>/Chat`. */
  scopes: string[];
}

/**
 * Sign-in with MSAL.js, the authorization code flow with PKCE by redirect: the same code for Entra ID in
 * Azure and for the local issuer, which has Entra ID's endpoints (only `authority` and `knownAuthorities`
 * differ). Tokens stay in session storage; the API gets an access token for its own scope, never a key.
 */
export class Auth {
  readonly #msal: PublicClientApplication;
  readonly #scopes: string[];

  private constructor(msal: PublicClientApplication, scopes: string[]) {
    this.#msal = msal;
    this.#scopes = scopes;
  }

  static async create(config: PageConfig): Promise<Auth> {
    const msal = new PublicClientApplication({
      auth: {
        clientId: config.clientId,
        authority: config.authority,
        knownAuthorities: config.knownAuthorities ?? [],
        redirectUri: `${location.origin}/`,
        postLogoutRedirectUri: `${location.origin}/`,
      },
      cache: { cacheLocation: "sessionStorage" },
    });
    await msal.initialize();
    const auth = new Auth(msal, config.scopes);
    const result = await msal.handleRedirectPromise();
    if (result?.account) msal.setActiveAccount(result.account);
    else if (!msal.getActiveAccount()) {
      const [account] = msal.getAllAccounts();
      if (account) msal.setActiveAccount(account);
    }
    return auth;
  }

  get account(): AccountInfo | null {
    return this.#msal.getActiveAccount();
  }

  signIn(): Promise<void> {
    return this.#msal.loginRedirect({ scopes: this.#scopes });
  }

  signOut(): Promise<void> {
    return this.#msal.logoutRedirect();
  }

  /** An access token for the API: from the cache, renewed silently, or by signing in again when it must. */
  async token(): Promise<string> {
    const account = this.account;
    if (!account) throw new Error("Sign in first.");
    try {
      return (await this.#msal.acquireTokenSilent({ scopes: this.#scopes, account })).accessToken;
    } catch (error) {
      if (error instanceof InteractionRequiredAuthError) await this.#msal.acquireTokenRedirect({ scopes: this.#scopes, account });
      throw error;
    }
  }
}
