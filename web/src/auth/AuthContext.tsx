import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";

import { api, session, setImpersonation, unwrap, type Schemas } from "../api/client";

export type Me = Schemas["MeResponse"];
export type TenantRole = "read-only" | "staff" | "owner";

const RANK: Record<string, number> = { "read-only": 0, staff: 1, owner: 2 };

/** Roles are a ladder (read-only < staff < owner); platform admins act in a tenant only by impersonation. */
export function hasRole(me: Me | null, minimum: TenantRole): boolean {
  if (!me || !me.tenant_id) return false;
  return (RANK[me.role] ?? -1) >= (RANK[minimum] ?? 99);
}

interface Auth {
  me: Me | null;
  ready: boolean;
  login: (email: string, password: string, rememberMe: boolean) => Promise<Me>;
  /** Tokens the API gave another way (an invited colleague's first password). */
  signInWith: (tokens: Schemas["TokenResponse"], rememberMe: boolean) => Promise<Me>;
  logout: () => Promise<void>;
  refreshMe: () => Promise<void>;
  can: (minimum: TenantRole) => boolean;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [ready, setReady] = useState(false);

  const loadMe = useCallback(async () => {
    const who = await unwrap(api.GET("/me"));
    setMe(who);
    return who;
  }, []);

  useEffect(() => {
    // A remembered (or this tab's) refresh token signs the merchant back in after a reload.
    const stop = session.onChange((signedIn) => {
      if (!signedIn) setMe(null);
    });
    if (session.stored()) {
      session
        .renew()
        .then((renewed) => (renewed ? loadMe() : null))
        .catch(() => setMe(null))
        .finally(() => setReady(true));
    } else {
      setReady(true);
    }
    return () => {
      stop();
    };
  }, [loadMe]);

  const login = useCallback(
    async (email: string, password: string, rememberMe: boolean) => {
      const tokens = await unwrap(api.POST("/auth/login", { body: { email, password, remember_me: rememberMe } }));
      session.start(tokens, rememberMe);
      return loadMe();
    },
    [loadMe],
  );

  const signInWith = useCallback(
    async (tokens: Schemas["TokenResponse"], rememberMe: boolean) => {
      session.start(tokens, rememberMe);
      return loadMe();
    },
    [loadMe],
  );

  const logout = useCallback(async () => {
    try {
      if (session.signedIn) await api.POST("/auth/logout");
    } finally {
      setImpersonation(null);
      session.end();
      setMe(null);
    }
  }, []);

  const refreshMe = useCallback(async () => {
    await loadMe();
  }, [loadMe]);

  const value = useMemo<Auth>(
    () => ({ me, ready, login, signInWith, logout, refreshMe, can: (minimum) => hasRole(me, minimum) }),
    [me, ready, login, signInWith, logout, refreshMe],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth outside AuthProvider");
  return auth;
}
