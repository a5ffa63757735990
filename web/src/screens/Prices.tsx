import { Link } from "react-router-dom";

import { api, unwrap, type Schemas } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { formatMoney, formatNumber } from "../shaping/forecast";
import { useAction } from "../ui/actions";
import { Async, Empty } from "../ui/States";
import { useApi } from "../ui/useApi";

type Row = Record<string, unknown>;
type Decision = Schemas["DecisionResponse"];

const signed = (text: string, value: number): string => (value > 0 ? `+${text}` : value < 0 ? `−${text}` : text);
const units = (value: unknown): string =>
  typeof value === "number" ? signed(formatNumber(Math.abs(value), 1), value) : "—";
const money = (value: unknown, currency: string): string =>
  typeof value === "number" ? signed(formatMoney(Math.abs(value), currency), value) : "—";
const pct = (value: unknown): string =>
  typeof value === "number" ? `${value > 0 ? "+" : value < 0 ? "−" : ""}${Math.abs(value * 100).toFixed(1)} %` : "—";

export default function Prices() {
  const { can } = useAuth();
  const writer = can("staff");
  const suggestions = useApi(() => unwrap(api.GET("/prices/suggestions", { params: { query: { limit: 20 } } })), []);
  const history = useApi(() => unwrap(api.GET("/prices/decisions", { params: { query: { limit: 20 } } })), []);
  const { busy, run } = useAction();

  async function act(key: string, action: () => Promise<Decision>, done: (decision: Decision) => string) {
    if (await run(key, action, done)) {
      suggestions.reload();
      history.reload();
    }
  }

  const decide = (row: Row, version: string, verb: "approve" | "reject") => {
    const productId = String(row.product_id);
    const body = { model_version: version, ...(row.variation_id ? { variation_id: String(row.variation_id) } : {}) };
    return act(
      `${verb}-${productId}`,
      () =>
        unwrap(
          verb === "approve"
            ? api.POST("/prices/suggestions/{product_id}/approve", { params: { path: { product_id: productId } }, body })
            : api.POST("/prices/suggestions/{product_id}/reject", { params: { path: { product_id: productId } }, body }),
        ),
      (decision) =>
        verb === "approve"
          ? `Price of #${decision.product_id} changed in the store (${decision.status}).`
          : `Suggestion for #${decision.product_id} rejected.`,
    );
  };

  const rollback = (decision: Decision) =>
    act(
      `rollback-${decision.decision_id}`,
      () =>
        unwrap(
          api.POST("/prices/decisions/{decision_id}/rollback", {
            params: { path: { decision_id: decision.decision_id } },
            body: { force: false },
          }),
        ),
      (result) => `Price of #${result.product_id} put back (${result.status}).`,
    );

  return (
    <>
      <h1>Prices</h1>
      {!writer ? <p className="notice">Your role is read-only: you can see the suggestions but not decide on them.</p> : null}
      <section className="panel" aria-labelledby="suggestions-title">
        <h2 id="suggestions-title">Suggestions waiting for a decision, largest expected margin first</h2>
        <Async state={suggestions} what="the price suggestions">
          {(data) =>
            data.serves === "baseline" ? (
              <Empty>
                Keeping every price: on its hold-out (each product&apos;s last weeks) the pricing model predicted sales no better than
                ignoring price, so it suggests no change.
              </Empty>
            ) : data.suggestions.length === 0 ? (
              <Empty>No price suggestion now{data.no_suggestion.length ? ` (${data.no_suggestion.length} products have a reason for none)` : ""}.</Empty>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th scope="col">Product</th>
                    <th scope="col">Now</th>
                    <th scope="col">Suggested</th>
                    <th scope="col">Expected effect</th>
                    <th scope="col">Confidence</th>
                    <th scope="col">Why</th>
                    {writer ? <th scope="col">Decision</th> : null}
                  </tr>
                </thead>
                <tbody>
                  {data.suggestions.map((row) => {
                    const id = String(row.product_id);
                    const currency = String(row.currency ?? "EUR");
                    return (
                      <tr key={`${id}-${String(row.variation_id ?? "")}`}>
                        <th scope="row">#{id}</th>
                        <td>{formatMoney(row.current_price as number, currency)}</td>
                        <td>
                          {formatMoney(row.suggested_price as number, currency)} ({pct(row.change)}
                          {row.kind === "sale" ? `, sale for ${String(row.sale_weeks)} weeks` : ""}
                          {row.kind === "test" ? ", a leg of a switchback test" : ""})
                          {row.variation_id ? null : (
                            <>
                              <br />
                              <Link to={`/app/inventory?product=${encodeURIComponent(id)}&price=${String(row.suggested_price)}`}>
                                Forecast at this price<span className="visually-hidden"> for product {id}</span>
                              </Link>
                            </>
                          )}
                        </td>
                        <td>
                          units {units(row.expected_units_change)}, revenue {money(row.expected_revenue_change, currency)},
                          margin {money(row.expected_margin_change, currency)} over {String(row.horizon_weeks)} weeks
                        </td>
                        <td>{String(row.confidence)}</td>
                        <td className="explain">{(row.reasons as string[] | undefined)?.join("; ")}</td>
                        {writer ? (
                          <td className="actions">
                            <button type="button" disabled={busy !== null} onClick={() => void decide(row, data.model_version, "approve")}>
                              Approve<span className="visually-hidden"> the price of product {id}</span>
                            </button>
                            <button
                              type="button"
                              className="secondary"
                              disabled={busy !== null}
                              onClick={() => void decide(row, data.model_version, "reject")}
                            >
                              Reject<span className="visually-hidden"> the price of product {id}</span>
                            </button>
                          </td>
                        ) : null}
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            )
          }
        </Async>
      </section>
      <section className="panel" aria-labelledby="history-title">
        <h2 id="history-title">History</h2>
        <Async state={history} what="the price decisions">
          {(data) =>
            data.items.length === 0 ? (
              <Empty>No decision yet.</Empty>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Product</th>
                    <th scope="col">Decision</th>
                    <th scope="col">By</th>
                    <th scope="col">Price</th>
                    {writer ? <th scope="col">Undo</th> : null}
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((decision) => (
                    <tr key={decision.decision_id}>
                      <td>{new Date(decision.decided_at).toLocaleString("en-GB")}</td>
                      <th scope="row">#{decision.product_id}</th>
                      <td>{decision.status.replace(/_/g, " ")}</td>
                      <td>{decision.decided_by}</td>
                      <td>
                        {formatNumber(decision.suggestion.current_price as number, 2)} → {formatNumber(decision.suggestion.suggested_price as number, 2)}
                      </td>
                      {writer ? (
                        <td>
                          {decision.status === "applied" ? (
                            <button type="button" className="secondary" disabled={busy !== null} onClick={() => void rollback(decision)}>
                              Roll back<span className="visually-hidden"> the price of product {decision.product_id}</span>
                            </button>
                          ) : null}
                        </td>
                      ) : null}
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
