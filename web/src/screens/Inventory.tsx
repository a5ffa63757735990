import { useState } from "react";

import { api, unwrap } from "../api/client";
import { BandChart } from "../charts/BandChart";
import { download, toCsv } from "../shaping/csv";
import { asForecastSeries, bandRows, formatNumber, shortDate } from "../shaping/forecast";
import { asAdvice, type Advice } from "../shaping/inventory";
import { Async, Empty } from "../ui/States";
import { useApi } from "../ui/useApi";

function FanChart({ productId }: { productId: string }) {
  const forecast = useApi(async () => {
    const answer = await unwrap(
      api.GET("/forecasts/products/{product_id}", {
        params: { path: { product_id: productId }, query: { history_weeks: 12, horizon_weeks: 8 } },
      }),
    );
    return bandRows(asForecastSeries(answer.forecast), answer.actual);
  }, [productId]);
  return (
    <Async state={forecast} what="the product's forecast">
      {(rows) => (
        <BandChart
          caption={`Product #${productId}: units sold per week and the forecast's P10–P90 fan`}
          rows={rows}
          unit="units"
          digits={1}
        />
      )}
    </Async>
  );
}

export function exportAdvice(items: Advice[]): string {
  return toCsv(
    ["product_id", "stock", "days_of_cover", "stockout_date", "lead_time_days", "reorder_quantity", "explanation"],
    items.map((item) => [
      item.product_id,
      item.stock_quantity,
      item.days_of_cover,
      item.stockout_date,
      item.lead_time_days,
      item.reorder_quantity,
      item.explanation,
    ]),
  );
}

export default function Inventory() {
  const [leadTime, setLeadTime] = useState(14);
  const [serviceLevel, setServiceLevel] = useState(0.95);
  const [selected, setSelected] = useState<string | null>(null);
  const advice = useApi(async () => {
    const answer = await unwrap(
      api.GET("/inventory/advice", { params: { query: { lead_time_days: leadTime, service_level: serviceLevel, limit: 200 } } }),
    );
    return { items: answer.items.map(asAdvice), checked: answer.products_checked };
  }, [leadTime, serviceLevel]);

  return (
    <>
      <h1>Inventory</h1>
      <form className="toolbar" onSubmit={(event) => event.preventDefault()} aria-label="Advice settings">
        <label>
          Lead time (days){" "}
          <input
            type="number"
            min={1}
            max={182}
            value={leadTime}
            onChange={(event) => {
              const value = Number(event.target.value);
              if (Number.isInteger(value) && value >= 1 && value <= 182) setLeadTime(value);
            }}
          />
        </label>
        <label>
          Service level{" "}
          <select value={serviceLevel} onChange={(event) => setServiceLevel(Number(event.target.value))}>
            <option value={0.9}>90 %</option>
            <option value={0.95}>95 %</option>
            <option value={0.98}>98 %</option>
          </select>
        </label>
      </form>
      <Async state={advice} what="the reorder list">
        {({ items, checked }) =>
          items.length === 0 ? (
            <Empty>
              Nothing to reorder: all {checked} products with managed stock cover their lead time.
            </Empty>
          ) : (
            <section className="panel" aria-labelledby="reorder-title">
              <div className="section-head">
                <h2 id="reorder-title">
                  Reorder now: {items.length} of {checked} products, most urgent first
                </h2>
                <button type="button" className="secondary" onClick={() => download("reorder-list.csv", exportAdvice(items))}>
                  Export CSV
                </button>
              </div>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Product</th>
                    <th scope="col">In stock</th>
                    <th scope="col">Days of cover</th>
                    <th scope="col">Sells out</th>
                    <th scope="col">Reorder</th>
                    <th scope="col">Why</th>
                    <th scope="col">
                      <span className="visually-hidden">Forecast</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((item) => (
                    <tr key={item.product_id} aria-selected={selected === item.product_id}>
                      <th scope="row">#{item.product_id}</th>
                      <td>{formatNumber(item.stock_quantity)}</td>
                      <td>{item.days_of_cover === null ? "lasts" : formatNumber(item.days_of_cover, 1)}</td>
                      <td>{item.stockout_date ? shortDate(item.stockout_date) : "—"}</td>
                      <td>
                        <strong>{formatNumber(item.reorder_quantity)}</strong>
                      </td>
                      <td className="explain">{item.explanation}</td>
                      <td>
                        <button
                          type="button"
                          className="secondary"
                          aria-pressed={selected === item.product_id}
                          onClick={() => setSelected(selected === item.product_id ? null : item.product_id)}
                        >
                          {selected === item.product_id ? "Hide" : "Forecast"}
                          <span className="visually-hidden"> of product {item.product_id}</span>
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          )
        }
      </Async>
      {selected ? (
        <section className="panel" aria-labelledby="fan-title">
          <h2 id="fan-title">Forecast of product #{selected}</h2>
          <FanChart productId={selected} />
        </section>
      ) : null}
    </>
  );
}
