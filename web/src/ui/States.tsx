import type { ReactNode } from "react";

import type { ApiError } from "../api/problem";
import type { Loaded } from "./useApi";

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

export function Failure({ error, retry }: { error: ApiError; retry?: () => void }) {
  return (
    <div role="alert" className="panel error-panel">
      <p>
        <strong>{error.network ? "No connection." : error.problem.title || "Request refused."}</strong>{" "}
        {error.problem.detail}
      </p>
      {error.problem.request_id ? <p className="muted">Request id {error.problem.request_id}</p> : null}
      {retry ? (
        <button type="button" onClick={retry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

/** Loading, then the error with a retry, then the content. */
export function Async<T>({ state, what, children }: { state: Loaded<T>; what: string; children: (data: T) => ReactNode }) {
  if (state.error) return <Failure error={state.error} retry={state.reload} />;
  if (state.loading && state.data === undefined) return <Loading what={what} />;
  if (state.data === undefined) return <Loading what={what} />;
  return <>{children(state.data)}</>;
}
