import { useEffect, useState } from "react";

import { api, unwrap, type Schemas } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { formatNumber } from "../shaping/forecast";
import { useAction } from "../ui/actions";
import { Async, Empty } from "../ui/States";
import { useToast } from "../ui/Toasts";
import { useApi } from "../ui/useApi";

const TRAINING_POLL_MS = 5000;

/** Whether a retraining asked at ``requestedAt`` has finished: a run of every kind started since, none running. */
export function retrainingFinished(runs: Schemas["RunResponse"][], kinds: number, requestedAt: string): boolean {
  const since = runs.filter((run) => new Date(run.started_at).getTime() >= new Date(requestedAt).getTime());
  return new Set(since.map((run) => run.kind)).size >= kinds && since.every((run) => run.status !== "running");
}

/** The metric a run's quality gate compared, beside its baseline, from the run's metrics (when it has them). */
export function metricBesideBaseline(metrics: Record<string, unknown>): string | null {
  const entries = Object.entries(metrics).filter(([, value]) => typeof value === "number") as [string, number][];
  const baseline = entries.find(([name]) => name.includes("baseline"));
  const own = entries.find(([name]) => !name.includes("baseline"));
  if (!own) return null;
  return baseline
    ? `${own[0]} ${formatNumber(own[1], 3)} vs ${baseline[0]} ${formatNumber(baseline[1], 3)}`
    : `${own[0]} ${formatNumber(own[1], 3)}`;
}

export default function Models() {
  // Two calls: the versions serving now, and the run history.
  const models = useApi(() => unwrap(api.GET("/training/models")), []);
  const runs = useApi(() => unwrap(api.GET("/training/runs", { params: { query: { limit: 30 } } })), []);
  const { can } = useAuth();
  const notify = useToast();
  const action = useAction();
  const [requestedAt, setRequestedAt] = useState<string | null>(null);
  const kinds = models.data?.models.length ?? 0;
  const { reload: reloadRuns, loading: runsLoading } = runs;
  const { reload: reloadModels } = models;
  useEffect(() => {
    // The worker trains in the background: look again until every kind has a finished run since the request.
    if (!requestedAt || runsLoading || !runs.data) return;
    if (kinds > 0 && retrainingFinished(runs.data.runs, kinds, requestedAt)) {
      setRequestedAt(null);
      reloadModels();
      notify("Training finished: the runs and the versions serving now are below.");
      return;
    }
    const timer = window.setTimeout(reloadRuns, TRAINING_POLL_MS);
    return () => window.clearTimeout(timer);
  }, [requestedAt, runsLoading, runs.data, kinds, reloadRuns, reloadModels, notify]);
  const retrain = () =>
    action.run(
      "retrain",
      () => unwrap(api.POST("/training/runs")),
      (queued) => {
        setRequestedAt(queued.requested_at);
        return "Training queued: every model is retrained on the store's latest data.";
      },
    );
  return (
    <>
      <h1>Models</h1>
      {can("staff") ? (
        <p>
          <button type="button" onClick={() => void retrain()} disabled={action.busy !== null || requestedAt !== null}>
            {requestedAt !== null ? "Training…" : "Retrain now"}
          </button>
        </p>
      ) : null}
      <section className="panel" aria-labelledby="serving-title">
        <h2 id="serving-title">Serving now</h2>
        <Async state={models} what="the models">
          {(data) => (
            <table>
              <thead>
                <tr>
                  <th scope="col">Kind</th>
                  <th scope="col">Version</th>
                  <th scope="col">Since</th>
                  <th scope="col">Hold-out metric</th>
                </tr>
              </thead>
              <tbody>
                {data.models.map((model) => (
                  <tr key={model.kind}>
                    <th scope="row">{model.kind}</th>
                    <td>{model.version ?? "not trained yet"}</td>
                    <td>{model.switched_at ? new Date(model.switched_at).toLocaleString("en-GB") : "—"}</td>
                    <td>{formatNumber(model.holdout_metric ?? null, 3)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Async>
      </section>
      <section className="panel" aria-labelledby="runs-title">
        <h2 id="runs-title">Training runs, newest first</h2>
        <Async state={runs} what="the training runs">
          {(data) =>
            data.runs.length === 0 ? (
              <Empty>No training run yet: the schedule trains once the store's data has arrived.</Empty>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th scope="col">Started</th>
                    <th scope="col">Kind</th>
                    <th scope="col">Result</th>
                    <th scope="col">Rows</th>
                    <th scope="col">Metric beside its baseline</th>
                    <th scope="col">Reason</th>
                  </tr>
                </thead>
                <tbody>
                  {data.runs.map((run) => (
                    <tr key={run.run_id}>
                      <td>{new Date(run.started_at).toLocaleString("en-GB")}</td>
                      <th scope="row">{run.kind}</th>
                      <td>{run.status}</td>
                      <td>{formatNumber(run.rows_used)}</td>
                      <td>{metricBesideBaseline(run.metrics) ?? "—"}</td>
                      <td className="explain">{run.reason ?? ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )
          }
        </Async>
      </section>
    </>
  );
}
