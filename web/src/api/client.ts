/**
 * The typed client of the API, generated from its OpenAPI document (web/openapi.json -> schema.d.ts): a route
 * or a shape that changes breaks the type check of the build, not the merchant's screen.
 */
import createClient from "openapi-fetch";

import { Session, type StoredRefresh, type Tokens } from "../auth/session";
import { config } from "../config";
import type { components, paths } from "./schema";
import { ApiError, asProblem, isTenantInactive } from "./problem";

export type Schemas = components["schemas"];

/** Paths that carry no access token (or must not renew one when refused). */
const PUBLIC_PATHS = /\/auth\/(login|signup|confirm|refresh|forgot-password|reset-password|first-password)$|\/plans$/;

let impersonation: string | null = null;

/** A platform admin acting inside a tenant through an audited impersonation session. */
export function setImpersonation(session: string | null): void {
  impersonation = session;
}

export function impersonating(): boolean {
  return impersonation !== null;
}

async function refreshTokens(stored: StoredRefresh): Promise<Tokens | null> {
  const response = await fetch(`${config().apiUrl}/auth/refresh`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: stored.refreshToken, remember_me: stored.rememberMe }),
  });
  if (!response.ok) return null;
  return (await response.json()) as Tokens;
}

export const session = new Session(refreshTokens);

let onSessionEnded: (reason: string) => void = () => undefined;

export function whenSessionEnds(listener: (reason: string) => void): void {
  onSessionEnded = listener;
}

function authorised(request: Request): Request {
  const headers = new Headers(request.headers);
  if (session.token) headers.set("Authorization", `Bearer ${session.token}`);
  if (impersonation) headers.set("X-Impersonation", impersonation);
  return new Request(request, { headers });
}

/** fetch with the session: the access token sent, renewed once on a 401, the session ended if that fails. */
export async function sessionFetch(request: Request): Promise<Response> {
  if (PUBLIC_PATHS.test(new URL(request.url).pathname)) return fetch(request);
  if (!session.fresh && session.stored()) await session.renew();
  const retry = request.clone();
  let response = await fetch(authorised(request));
  if (response.status === 401) {
    if (await session.renew()) {
      response = await fetch(authorised(retry));
    }
    if (response.status === 401) {
      session.end();
      onSessionEnded("Your session has ended. Log in again to carry on.");
    }
  } else if (response.status === 403) {
    const problem = asProblem(await response.clone().json().catch(() => null), 403);
    if (isTenantInactive(problem) && !impersonation) {
      session.end();
      onSessionEnded(problem.detail ?? "This account is not active.");
    }
  }
  return response;
}

// main.tsx loads /config.json before it imports the app, so the API's URL is known here.
export const api = createClient<paths>({ baseUrl: config().apiUrl, fetch: sessionFetch });

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of an answer, or an ApiError carrying the problem+json (a network failure is one too). */
export async function unwrap<T>(call: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await call;
  } catch {
    throw new ApiError({ status: 0, title: "No connection", detail: "The service could not be reached." }, true);
  }
  if (answer.error !== undefined || !answer.response.ok) {
    throw new ApiError(asProblem(answer.error, answer.response.status));
  }
  return answer.data as T;
}
