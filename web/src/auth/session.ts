/**
 * The signed-in session, held as the API's auth routes give it: the access token only in memory; the refresh
 * token in sessionStorage (ends with the tab) or, with "remember me" (the API's 30-day refresh token), in
 * localStorage. A 401 renews the access token once through POST /auth/refresh; when that fails too the
 * session has ended on the server (signed out everywhere, revoked, suspended) and it ends here.
 */
export interface Tokens {
  access_token: string;
  refresh_token?: string | null;
  expires_in: number;
}

export interface StoredRefresh {
  refreshToken: string;
  rememberMe: boolean;
}

const STORAGE_KEY = "luxebrain.refresh";

export type Refresher = (refresh: StoredRefresh) => Promise<Tokens | null>;

export class Session {
  private accessToken: string | null = null;
  private expiresAt = 0;
  private renewing: Promise<boolean> | null = null;
  private listeners = new Set<(signedIn: boolean) => void>();

  constructor(
    private readonly refresher: Refresher,
    private readonly now: () => number = Date.now,
    private readonly storages: { remembered: Storage; tab: Storage } = {
      remembered: window.localStorage,
      tab: window.sessionStorage,
    },
  ) {}

  get token(): string | null {
    return this.accessToken;
  }

  get signedIn(): boolean {
    return this.accessToken !== null;
  }

  /** Access tokens a minute from expiry are renewed before use rather than sent to be refused. */
  get fresh(): boolean {
    return this.accessToken !== null && this.now() < this.expiresAt - 60_000;
  }

  onChange(listener: (signedIn: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(tokens: Tokens, rememberMe: boolean): void {
    this.accessToken = tokens.access_token;
    this.expiresAt = this.now() + tokens.expires_in * 1000;
    if (tokens.refresh_token) {
      this.clearStored();
      const target = rememberMe ? this.storages.remembered : this.storages.tab;
      target.setItem(STORAGE_KEY, JSON.stringify({ refreshToken: tokens.refresh_token, rememberMe }));
    }
    this.emit();
  }

  stored(): StoredRefresh | null {
    for (const storage of [this.storages.tab, this.storages.remembered]) {
      const raw = storage.getItem(STORAGE_KEY);
      if (!raw) continue;
      try {
        const parsed = JSON.parse(raw) as Partial<StoredRefresh>;
        if (typeof parsed.refreshToken === "string")
          return { refreshToken: parsed.refreshToken, rememberMe: parsed.rememberMe === true };
      } catch {
        storage.removeItem(STORAGE_KEY);
      }
    }
    return null;
  }

  /** One renewal at a time, however many requests were refused together. */
  renew(): Promise<boolean> {
    if (!this.renewing) {
      this.renewing = this.renewOnce().finally(() => {
        this.renewing = null;
      });
    }
    return this.renewing;
  }

  private async renewOnce(): Promise<boolean> {
    const stored = this.stored();
    if (!stored) {
      this.end();
      return false;
    }
    let tokens: Tokens | null = null;
    try {
      tokens = await this.refresher(stored);
    } catch {
      tokens = null;
    }
    if (!tokens) {
      this.end();
      return false;
    }
    this.accessToken = tokens.access_token;
    this.expiresAt = this.now() + tokens.expires_in * 1000;
    this.emit();
    return true;
  }

  end(): void {
    const was = this.accessToken !== null;
    this.accessToken = null;
    this.expiresAt = 0;
    this.clearStored();
    if (was) this.emit();
    else this.listeners.forEach((listener) => listener(false));
  }

  private clearStored(): void {
    this.storages.remembered.removeItem(STORAGE_KEY);
    this.storages.tab.removeItem(STORAGE_KEY);
  }

  private emit(): void {
    this.listeners.forEach((listener) => listener(this.signedIn));
  }
}
