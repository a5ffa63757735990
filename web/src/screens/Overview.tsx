import { Link } from "react-router-dom";

import { api, unwrap } from "../api/client";
import { BandChart } from "../charts/BandChart";
import { asForecastSeries, bandRows, formatMoney, formatNumber, shortDate, total } from "../shaping/forecast";
import { Async } from "../ui/States";
import { useApi } from "../ui/useApi";

const HISTORY_WEEKS = 12;
const HORIZON_WEEKS = 8;

function useStoreForecast(measure: "revenue" | "units") {
  return useApi(async () => {
    const answer = await unwrap(
      api.GET("/forecasts/store", {
        params: { query: { measure, history_weeks: HISTORY_WEEKS, horizon_weeks: HORIZON_WEEKS } },
      }),
    );
    return bandRows(asForecastSeries(answer.forecast), answer.actual);
  }, [measure]);
}

export default function Overview() {
  // The screen's data in three calls: revenue, units (each with its actual history) and the alerts.
  const revenue = useStoreForecast("revenue");
  const units = useStoreForecast("units");
  const alerts = useApi(() => unwrap(api.GET("/overview/alerts")), []);
  return (
    <>
      <h1>Overview</h1>
      <section aria-labelledby="alerts-title">
        <h2 id="alerts-title">This week's alerts</h2>
        <Async state={alerts} what="the alerts">
          {(data) => (
            <ul className="cards">
              <li className="panel">
                <h3>Stock-outs ahead</h3>
                {data.stockouts ? (
                  <>
                    <p className="figure">{data.stockouts.within_window.length}</p>
                    <p>
                      products sell out within {data.window_days} days; {data.stockouts.reorder_now} to reorder now.{" "}
                      <Link to="/app/inventory">See the reorder list</Link>
                    </p>
                  </>
                ) : (
                  <p className="muted">Waiting for the first forecast model.</p>
                )}
              </li>
              <li className="panel">
                <h3>Customers at risk</h3>
                {data.at_risk ? (
                  <>
                    <p className="figure">{data.at_risk.customers}</p>
                    <p>
                      valuable customers, {formatMoney(data.at_risk.revenue_at_stake)} of revenue at stake.{" "}
                      <Link to="/app/customers">See who</Link>
                    </p>
                  </>
                ) : (
                  <p className="muted">Waiting for the first customer model.</p>
                )}
              </li>
              <li className="panel">
                <h3>Prices waiting</h3>
                {data.prices ? (
                  <>
                    <p className="figure">{data.prices.waiting}</p>
                    <p>
                      price suggestions wait for your decision. <Link to="/app/prices">Decide</Link>
                    </p>
                  </>
                ) : (
                  <p className="muted">Waiting for the first pricing model.</p>
                )}
              </li>
            </ul>
          )}
        </Async>
      </section>
      <section aria-labelledby="revenue-title" className="panel">
        <h2 id="revenue-title">Revenue</h2>
        <Async state={revenue} what="the revenue forecast">
          {(rows) => {
            const ahead = rows.filter((row) => row.p50 !== null);
            return (
              <>
                <p>
                  Last {HISTORY_WEEKS} weeks: <strong>{formatMoney(total(rows.map((row) => row.actual)))}</strong>. Next{" "}
                  {HORIZON_WEEKS} weeks (median): <strong>{formatMoney(total(ahead.map((row) => row.p50)))}</strong>
                  {ahead[0] ? ` from ${shortDate(ahead[0].week)}` : ""}.
                </p>
                <BandChart caption={`Weekly revenue: actual for ${HISTORY_WEEKS} weeks, forecast for ${HORIZON_WEEKS} weeks with its P10–P90 band`} rows={rows} unit="EUR" />
              </>
            );
          }}
        </Async>
      </section>
      <section aria-labelledby="units-title" className="panel">
        <h2 id="units-title">Units</h2>
        <Async state={units} what="the units forecast">
          {(rows) => (
            <>
              <p>
                Last {HISTORY_WEEKS} weeks: <strong>{formatNumber(total(rows.map((row) => row.actual)))}</strong> units sold.
              </p>
              <BandChart caption="Weekly units sold: actual and forecast with its P10–P90 band" rows={rows} unit="units" digits={1} />
            </>
          )}
        </Async>
      </section>
    </>
  );
}
