import { Session, type Refresher, type Tokens } from "./session";

class MemoryStorage implements Storage {
  private items = new Map<string, string>();
  get length() {
    return this.items.size;
  }
  clear() {
    this.items.clear();
  }
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  key(index: number) {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
}

const tokens = (access: string, refresh: string | null = "refresh-1"): Tokens => ({
  access_token: access,
  refresh_token: refresh,
  expires_in: 3600,
});

function make(refresher: Refresher = vi.fn(async () => tokens("access-2", null)), now = () => 0) {
  const storages = { remembered: new MemoryStorage(), tab: new MemoryStorage() };
  return { session: new Session(refresher, now, storages), storages, refresher };
}

describe("Session", () => {
  it("keeps the access token in memory only and the refresh token where remember-me says", () => {
    const { session, storages } = make();
    session.start(tokens("access-1"), false);
    expect(session.token).toBe("access-1");
    expect(storages.tab.getItem("luxebrain.refresh")).toContain("refresh-1");
    expect(storages.remembered.length).toBe(0);
    expect(JSON.stringify([storages.tab.getItem("luxebrain.refresh")])).not.toContain("access-1");
    session.start(tokens("access-1"), true);
    expect(storages.remembered.getItem("luxebrain.refresh")).toContain('"rememberMe":true');
    expect(storages.tab.length).toBe(0);
  });

  it("renews once however many requests ask at the same time, with remember-me as at log-in", async () => {
    const refresher = vi.fn(async () => tokens("access-2", null));
    const { session } = make(refresher);
    session.start(tokens("access-1"), true);
    const results = await Promise.all([session.renew(), session.renew(), session.renew()]);
    expect(results).toEqual([true, true, true]);
    expect(refresher).toHaveBeenCalledTimes(1);
    expect(refresher).toHaveBeenCalledWith({ refreshToken: "refresh-1", rememberMe: true });
    expect(session.token).toBe("access-2");
  });

  it("ends the session when the server refuses the refresh token (signed out everywhere)", async () => {
    const { session, storages } = make(vi.fn(async () => null));
    const changes: boolean[] = [];
    session.onChange((signedIn) => changes.push(signedIn));
    session.start(tokens("access-1"), true);
    expect(await session.renew()).toBe(false);
    expect(session.token).toBeNull();
    expect(storages.remembered.length + storages.tab.length).toBe(0);
    expect(changes).toEqual([true, false]);
  });

  it("counts a token a minute from expiry as not fresh", () => {
    let now = 0;
    const { session } = make(undefined, () => now);
    session.start(tokens("access-1"), false);
    expect(session.fresh).toBe(true);
    now = 3600_000 - 30_000;
    expect(session.fresh).toBe(false);
  });
});
