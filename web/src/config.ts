/** Where the API is. The hosting serves /config.json beside the app (CloudFront: a file of the stack; locally:
 * the dashboard server of `luxebrain local`), so one build runs against any stack. */
export interface AppConfig {
  apiUrl: string;
}

let current: AppConfig = { apiUrl: import.meta.env.VITE_API_URL ?? "http://127.0.0.1:8000" };

export async function loadConfig(fetcher: typeof fetch = fetch): Promise<AppConfig> {
  try {
    const response = await fetcher("/config.json", { cache: "no-store" });
    if (response.ok) {
      const body = (await response.json()) as Partial<AppConfig>;
      if (typeof body.apiUrl === "string" && body.apiUrl) current = { apiUrl: body.apiUrl.replace(/\/$/, "") };
    }
  } catch {
    // No config file (vite dev server): the build-time default stays.
  }
  return current;
}

export function config(): AppConfig {
  return current;
}
