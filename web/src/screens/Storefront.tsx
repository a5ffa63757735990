import { useState } from "react";

import { api, unwrap, type Schemas } from "../api/client";
import { formatMoney, formatNumber } from "../shaping/forecast";
import { moneyWithInterval, percent, placementDecision } from "../shaping/placements";
import { Async, Empty } from "../ui/States";
import { useApi } from "../ui/useApi";

type Placement = Schemas["PlacementResult"];

const PERIODS = [7, 30, 90];

function PlacementPanel({ placement }: { placement: Placement }) {
  const verdict = placementDecision(placement.decision);
  const id = `placement-${placement.placement}`;
  return (
    <section className="panel" aria-labelledby={id}>
      <h2 id={id}>“{placement.placement}”</h2>
      <p>
        <strong>{verdict.label}</strong> — {placement.reason}
      </p>
      <p>
        Caused revenue (recommendations vs the hold-out):{" "}
        <strong>{moneyWithInterval(placement.caused_revenue, placement.caused_revenue_interval)}</strong>; revenue per visitor lift{" "}
        {moneyWithInterval(placement.revenue_per_visitor_lift, placement.revenue_per_visitor_lift_interval)}. Attributed to
        clicks: {formatMoney(placement.attributed_revenue)} in {formatNumber(placement.attributed_orders)} orders.
      </p>
      <table>
        <caption>Shown, clicked and carted</caption>
        <thead>
          <tr>
            <th scope="col">Shown</th>
            <th scope="col">Clicks</th>
            <th scope="col">Click-through</th>
            <th scope="col">Add to cart</th>
            <th scope="col">Add-to-cart rate</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <td>{formatNumber(placement.shown)}</td>
            <td>{formatNumber(placement.clicks)}</td>
            <td>{percent(placement.click_through_rate)}</td>
            <td>{formatNumber(placement.add_to_carts)}</td>
            <td>{percent(placement.add_to_cart_rate)}</td>
          </tr>
        </tbody>
      </table>
      <table>
        <caption>Recommendations vs the hold-out</caption>
        <thead>
          <tr>
            <th scope="col">Arm</th>
            <th scope="col">Visitors</th>
            <th scope="col">Buying visitors</th>
            <th scope="col">Revenue</th>
            <th scope="col">Revenue per visitor</th>
          </tr>
        </thead>
        <tbody>
          {placement.arms.map((arm) => (
            <tr key={arm.arm}>
              <th scope="row">{arm.arm === "treatment" ? "Recommendations" : "Hold-out"}</th>
              <td>{formatNumber(arm.visitors)}</td>
              <td>{formatNumber(arm.buying_visitors)}</td>
              <td>{formatMoney(arm.revenue)}</td>
              <td>{arm.revenue_per_visitor.toLocaleString("en-GB", { style: "currency", currency: "EUR" })}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">
        Always-valid p = {placement.p_value.toPrecision(3)}; sample-ratio check p = {placement.sample_ratio_p_value.toPrecision(3)}.
      </p>
    </section>
  );
}

export default function Storefront() {
  const [days, setDays] = useState(30);
  const results = useApi(() => unwrap(api.GET("/storefront/results", { params: { query: { days } } })), [days]);
  return (
    <>
      <h1>Storefront placements</h1>
      <div className="field inline">
        <label htmlFor="period">Period</label>
        <select id="period" value={days} onChange={(event) => setDays(Number(event.target.value))}>
          {PERIODS.map((period) => (
            <option key={period} value={period}>
              the last {period} days
            </option>
          ))}
        </select>
      </div>
      <Async state={results} what="the placements' results">
        {(data) => (
          <>
            <p className="muted">
              Since {data.since}: {percent(data.holdout_share)} of visitors are held out (they see the popularity fallback); an order
              counts for a placement when its visitor clicked it in the {data.click_window_days} days before.
            </p>
            {data.placements.length === 0 ? (
              <Empty>No storefront events in this period: place the widget on the shop's pages to measure it.</Empty>
            ) : (
              data.placements.map((placement) => <PlacementPanel key={placement.placement} placement={placement} />)
            )}
          </>
        )}
      </Async>
    </>
  );
}
