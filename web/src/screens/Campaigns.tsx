import { useState } from "react";

import { api, unwrap } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { CampaignBuilder } from "./CampaignBuilder";
import { FlowsPanel } from "./FlowTemplates";
import { formatMoney, formatNumber } from "../shaping/forecast";
import { Async, Empty } from "../ui/States";
import { useApi } from "../ui/useApi";

type Row = Record<string, unknown>;

interface Decision {
  status: string;
  winner: string | null;
  reason: string;
  comparisons: Row[];
}

export function asDecision(value: unknown): Decision | null {
  if (!value || typeof value !== "object") return null;
  const record = value as Row;
  return {
    status: String(record.status ?? "unknown"),
    winner: typeof record.winner === "string" ? record.winner : null,
    reason: String(record.reason ?? ""),
    comparisons: Array.isArray(record.comparisons) ? (record.comparisons as Row[]) : [],
  };
}

/** "+1.2 pts (−0.4 to +2.8)": a lift with its interval, in percentage points of conversion. */
export function liftText(lift: unknown, interval: unknown): string {
  const points = (value: number) => `${value >= 0 ? "+" : "−"}${Math.abs(value * 100).toFixed(1)}`;
  if (typeof lift !== "number") return "—";
  const range = Array.isArray(interval) && interval.length === 2 ? ` (${points(interval[0] as number)} to ${points(interval[1] as number)})` : "";
  return `${points(lift)} pts${range}`;
}

function Verdict({ title, decision }: { title: string; decision: Decision }) {
  const decided = decision.winner !== null;
  return (
    <div className="verdict">
      <h3>{title}</h3>
      <p>
        <strong>{decided ? `✔ Decided: ${decision.winner} wins` : "● No decision yet"}</strong> — {decision.reason}
      </p>
      {decision.comparisons.length ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Variant vs control</th>
              <th scope="col">Conversion lift (interval)</th>
              <th scope="col">Chance to beat control</th>
              <th scope="col">Revenue per recipient lift</th>
            </tr>
          </thead>
          <tbody>
            {decision.comparisons.map((comparison) => (
              <tr key={`${String(comparison.variant)}-${String(comparison.control)}`}>
                <th scope="row">
                  {String(comparison.variant)} vs {String(comparison.control)}
                </th>
                <td>{liftText(comparison.conversion_lift_absolute, comparison.interval_absolute)}</td>
                <td>{typeof comparison.chance_to_beat_control === "number" ? `${(comparison.chance_to_beat_control * 100).toFixed(0)} %` : "—"}</td>
                <td>{formatMoney(comparison.revenue_per_recipient_lift as number)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

function Results({ load, title, onRefresh }: { load: () => Promise<Row>; title: string; onRefresh: () => void }) {
  const results = useApi(load, [title]);
  return (
    <section className="panel" aria-labelledby="results-title">
      <h2 id="results-title">{title}</h2>
      {/* Sends, opens and orders keep arriving after a launch: the merchant looks again when they wish. */}
      <p>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            results.reload();
            onRefresh(); // a campaign's status (scheduled, running, sent) moves with its sends
          }}
          disabled={results.loading}
        >
          {results.loading ? "Refreshing…" : "Refresh the results"}
        </button>
      </p>
      <Async state={results} what="the results">
        {(data) => {
          const arms = (Array.isArray(data.arms) ? data.arms : []) as Row[];
          if (arms.length === 0) return <Empty>Nothing sent yet: results appear once recipients are assigned.</Empty>;
          const incrementality = asDecision(data.incrementality);
          const ab = asDecision(data.ab_test);
          return (
            <>
              <table>
                <caption className="visually-hidden">Per arm</caption>
                <thead>
                  <tr>
                    <th scope="col">Arm</th>
                    <th scope="col">Assigned</th>
                    <th scope="col">Sent</th>
                    <th scope="col">Opened</th>
                    <th scope="col">Clicked</th>
                    <th scope="col">Converted</th>
                    <th scope="col">Rate</th>
                    <th scope="col">Revenue</th>
                  </tr>
                </thead>
                <tbody>
                  {arms.map((arm) => (
                    <tr key={String(arm.arm)}>
                      <th scope="row">{String(arm.arm)}</th>
                      <td>{formatNumber(arm.assigned as number)}</td>
                      <td>{formatNumber(arm.sends as number)}</td>
                      <td>{formatNumber(arm.opens as number)}</td>
                      <td>{formatNumber(arm.clicks as number)}</td>
                      <td>{formatNumber(arm.conversions as number)}</td>
                      <td>{typeof arm.conversion_rate === "number" ? `${(arm.conversion_rate * 100).toFixed(1)} %` : "—"}</td>
                      <td>{formatMoney(arm.revenue as number)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {incrementality ? (
                <>
                  <Verdict title="Lift over the hold-out" decision={incrementality} />
                  {typeof data.incremental_revenue === "number" ? <p>Incremental revenue: {formatMoney(data.incremental_revenue)}.</p> : null}
                </>
              ) : (
                <p className="muted">No hold-out in this send: no lift can be measured.</p>
              )}
              {ab ? <Verdict title="A/B test between the variants" decision={ab} /> : null}
            </>
          );
        }}
      </Async>
    </section>
  );
}

export default function Campaigns() {
  const { can } = useAuth();
  const campaigns = useApi(() => unwrap(api.GET("/campaigns")) as Promise<Row>, []);
  const [chosen, setChosen] = useState<{ kind: "campaign" | "flow"; id: string } | null>(null);
  const [building, setBuilding] = useState(false);
  return (
    <>
      <h1>Campaigns</h1>
      {can("staff") ? (
        building ? (
          <CampaignBuilder
            onLaunched={(campaignId) => {
              setBuilding(false);
              campaigns.reload();
              setChosen({ kind: "campaign", id: campaignId });
            }}
          />
        ) : (
          <p>
            <button type="button" onClick={() => setBuilding(true)}>
              New campaign
            </button>
          </p>
        )
      ) : null}
      <section className="panel" aria-labelledby="campaigns-title">
        <h2 id="campaigns-title">One-off campaigns</h2>
        <Async state={campaigns} what="the campaigns">
          {(data) => {
            const items = (Array.isArray(data.items) ? data.items : []) as Row[];
            return items.length === 0 ? (
              <Empty>No campaign yet.</Empty>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th scope="col">Campaign</th>
                    <th scope="col">Segment</th>
                    <th scope="col">Channel</th>
                    <th scope="col">Status</th>
                    <th scope="col">A/B</th>
                    <th scope="col">
                      <span className="visually-hidden">Results</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((item) => (
                    <tr key={String(item.campaign_id)}>
                      <th scope="row">{String(item.name)}</th>
                      <td>{String(item.segment)}</td>
                      <td>{String(item.channel)}</td>
                      <td>{String(item.status)}</td>
                      <td>{item.ab_test ? "yes" : "no"}</td>
                      <td>
                        <button type="button" className="secondary" onClick={() => setChosen({ kind: "campaign", id: String(item.campaign_id) })}>
                          Results<span className="visually-hidden"> of {String(item.name)}</span>
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            );
          }}
        </Async>
      </section>
      <FlowsPanel onResults={(flow) => setChosen({ kind: "flow", id: flow })} />
      {chosen ? (
        <Results
          onRefresh={campaigns.reload}
          title={chosen.kind === "flow" ? `Results of the ${chosen.id.replace(/_/g, " ")} flow` : `Results of campaign ${chosen.id}`}
          load={() =>
            (chosen.kind === "flow"
              ? unwrap(api.GET("/campaigns/flows/{flow}/results", { params: { path: { flow: chosen.id } } }))
              : unwrap(api.GET("/campaigns/{campaign_id}/results", { params: { path: { campaign_id: chosen.id } } }))) as Promise<Row>
          }
        />
      ) : null}
    </>
  );
}
