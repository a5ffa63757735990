/** RFC 9457 problem+json, as every error of the API is answered, and what the screens do with it. */
export interface FieldProblem {
  location: string;
  message: string;
  type?: string;
}

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  request_id?: string;
  errors?: FieldProblem[] | null;
  retry_after?: number | null;
}

export class ApiError extends Error {
  constructor(
    readonly problem: Problem,
    readonly network = false,
  ) {
    super(problem.detail || problem.title || `request failed (${problem.status})`);
    this.name = "ApiError";
  }

  get status(): number {
    return this.problem.status;
  }

  /** Worth a "try again" button: the network or the server failed, or a rate limit. */
  get retryable(): boolean {
    return this.network || this.status >= 500 || this.status === 429;
  }
}

export function asProblem(body: unknown, status: number): Problem {
  if (body && typeof body === "object" && "status" in body) {
    const candidate = body as Partial<Problem>;
    return { ...candidate, status: typeof candidate.status === "number" ? candidate.status : status };
  }
  return { status, title: status >= 500 ? "The service failed" : "Request refused" };
}

/** Field name -> message, from a 422's errors (``body.email`` -> ``email``; nested fields keep their path). */
export function fieldErrors(problem: Problem): Record<string, string> {
  const result: Record<string, string> = {};
  for (const error of problem.errors ?? []) {
    const parts = error.location.split(".");
    const field = parts[0] === "body" || parts[0] === "query" || parts[0] === "path" ? parts.slice(1) : parts;
    const name = field.join(".");
    if (name && !(name in result)) result[name] = error.message;
  }
  return result;
}

/** A tenant that a platform admin suspended: its members' sessions end. */
export function isTenantInactive(problem: Problem): boolean {
  return problem.status === 403 && /^this tenant is (?!active)/.test(problem.detail ?? "");
}
