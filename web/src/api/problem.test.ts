import { ApiError, asProblem, fieldErrors, isTenantInactive } from "./problem";

describe("problem+json", () => {
  it("names each invalid field by its form name", () => {
    const problem = asProblem(
      {
        status: 422,
        title: "Unprocessable Content",
        errors: [
          { location: "body.email", message: "not an e-mail" },
          { location: "body.email", message: "second message is ignored" },
          { location: "query.lead_time_days", message: "too large" },
          { location: "body.settings.timezone", message: "unknown" },
        ],
      },
      422,
    );
    expect(fieldErrors(problem)).toEqual({
      email: "not an e-mail",
      lead_time_days: "too large",
      "settings.timezone": "unknown",
    });
  });

  it("offers a retry for network failures, 5xx and 429, not for a refusal", () => {
    expect(new ApiError({ status: 0 }, true).retryable).toBe(true);
    expect(new ApiError({ status: 503 }).retryable).toBe(true);
    expect(new ApiError({ status: 429 }).retryable).toBe(true);
    expect(new ApiError({ status: 409 }).retryable).toBe(false);
  });

  it("reads a body that is not problem+json as a generic problem of the status", () => {
    expect(asProblem("<html>", 502)).toEqual({ status: 502, title: "The service failed" });
  });

  it("tells a suspended tenant from other refusals", () => {
    expect(isTenantInactive({ status: 403, detail: "this tenant is suspended; contact support" })).toBe(true);
    expect(isTenantInactive({ status: 403, detail: "this action needs the staff role" })).toBe(false);
  });
});
