import { useEffect, useRef, useState } from "react";

import { api, unwrap } from "../api/client";
import { humanSegment, movement, percent, asSegment } from "../shaping/customers";
import { formatMoney, formatNumber } from "../shaping/forecast";
import { Async, Empty } from "../ui/States";
import { useApi } from "../ui/useApi";

type Row = Record<string, unknown>;

const num = (row: Row, name: string): number | null => (typeof row[name] === "number" ? (row[name] as number) : null);

function CustomerCard({ customerId, onClose }: { customerId: string; onClose: () => void }) {
  const scores = useApi(
    () => unwrap(api.GET("/customers/{customer_id}/scores", { params: { path: { customer_id: customerId } } })),
    [customerId],
  );
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    // The card opens below the lists: bring it (and the keyboard's focus) to the merchant.
    heading.current?.scrollIntoView({ block: "start" });
    heading.current?.focus();
  }, [customerId]);
  return (
    <section className="panel" aria-labelledby="customer-title">
      <div className="section-head">
        <h2 id="customer-title" ref={heading} tabIndex={-1}>
          Customer {customerId}
        </h2>
        <button type="button" className="secondary" onClick={onClose}>
          Close
        </button>
      </div>
      <Async state={scores} what="the customer's scores">
        {({ customer }) => {
          const rfm = (customer.rfm ?? {}) as Record<string, number>;
          return (
            <dl className="facts">
              <dt>Segment</dt>
              <dd>
                {humanSegment(String(customer.segment))}
                {customer.previous_segment && customer.previous_segment !== customer.segment
                  ? ` (was ${humanSegment(String(customer.previous_segment))})`
                  : ""}
              </dd>
              <dt>RFM scores (1–5)</dt>
              <dd>
                recency {rfm.recency}, frequency {rfm.frequency}, monetary {rfm.monetary}
              </dd>
              <dt>Orders</dt>
              <dd>
                {String(customer.orders)}, last {String(customer.last_order_date)} ({String(customer.days_since_last_order)} days ago)
              </dd>
              <dt>Churn risk</dt>
              <dd>
                {String(customer.churn_risk_band)} (P(still a customer) {formatNumber(num(customer, "p_alive"), 2)})
              </dd>
              <dt>Expected next order</dt>
              <dd>{customer.expected_next_order_date ? String(customer.expected_next_order_date) : "not expected"}</dd>
              <dt>12-month value</dt>
              <dd>
                {formatMoney(num(customer, "clv_12m"))} (likely between {formatMoney(num(customer, "clv_12m_low"))} and{" "}
                {formatMoney(num(customer, "clv_12m_high"))})
              </dd>
            </dl>
          );
        }}
      </Async>
    </section>
  );
}

function SegmentMembers({ segment, onCustomer }: { segment: string; onCustomer: (id: string) => void }) {
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const page = useApi(
    () =>
      unwrap(
        api.GET("/segments/{segment}/customers", { params: { path: { segment }, query: { limit: 25, ...(cursor ? { cursor } : {}) } } }),
      ),
    [segment, cursor],
  );
  return (
    <section className="panel" aria-labelledby="members-title">
      <h2 id="members-title">{humanSegment(segment)}: members, highest 12-month value first</h2>
      <Async state={page} what="the segment's customers">
        {(data) =>
          data.items.length === 0 ? (
            <Empty>No customers in this segment.</Empty>
          ) : (
            <>
              <p>{data.total} customers.</p>
              <CustomerTable rows={data.items} onCustomer={onCustomer} />
              {data.next_cursor ? (
                <button type="button" className="secondary" onClick={() => setCursor(data.next_cursor ?? undefined)}>
                  Next page
                </button>
              ) : null}
            </>
          )
        }
      </Async>
    </section>
  );
}

function CustomerTable({ rows, onCustomer, atStake = false }: { rows: Row[]; onCustomer: (id: string) => void; atStake?: boolean }) {
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Customer</th>
          <th scope="col">Orders</th>
          <th scope="col">Last order (days)</th>
          <th scope="col">Churn risk</th>
          <th scope="col">{atStake ? "Revenue at stake" : "12-month value"}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={String(row.customer_id)}>
            <th scope="row" className="id-cell">
              <button type="button" className="link" onClick={() => onCustomer(String(row.customer_id))}>
                {String(row.customer_id)}
              </button>
            </th>
            <td>{String(row.orders)}</td>
            <td>{String(row.days_since_last_order)}</td>
            <td>{String(row.churn_risk_band)}</td>
            <td>{formatMoney(num(row, atStake ? "revenue_at_stake" : "clv_12m"))}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export default function Customers() {
  const segments = useApi(() => unwrap(api.GET("/segments")), []);
  const atRisk = useApi(() => unwrap(api.GET("/churn-risk", { params: { query: { limit: 20 } } })), []);
  const [segment, setSegment] = useState<string | null>(null);
  const [customer, setCustomer] = useState<string | null>(null);
  return (
    <>
      <h1>Customers</h1>
      <section aria-labelledby="segments-title">
        <h2 id="segments-title">Segments (RFM) and their movement since the last run</h2>
        <Async state={segments} what="the segments">
          {(data) => (
            <>
              <p className="muted">Scored on {data.as_of.slice(0, 10)}. Choose a segment to see its members.</p>
              <ul className="segment-grid">
                {data.segments.map(asSegment).map((item) => {
                  const moved = movement(item);
                  return (
                    <li key={item.segment}>
                      <button
                        type="button"
                        className="segment"
                        aria-pressed={segment === item.segment}
                        onClick={() => setSegment(item.segment)}
                      >
                        <span className="segment-name">{humanSegment(item.segment)}</span>
                        <span className="figure">{formatNumber(item.customers)}</span>
                        <span>
                          {percent(item.customer_share)} of customers, {percent(item.revenue_share)} of revenue
                        </span>
                        <span className={moved.net >= 0 ? "up" : "down"}>{moved.text}</span>
                      </button>
                    </li>
                  );
                })}
              </ul>
            </>
          )}
        </Async>
      </section>
      {segment ? <SegmentMembers segment={segment} onCustomer={setCustomer} /> : null}
      {customer ? <CustomerCard customerId={customer} onClose={() => setCustomer(null)} /> : null}
      <section className="panel" aria-labelledby="risk-title">
        <h2 id="risk-title">Valuable customers at risk, most revenue at stake first</h2>
        <Async state={atRisk} what="the customers at risk">
          {(data) =>
            data.items.length === 0 ? <Empty>No valuable customer is at risk.</Empty> : <CustomerTable rows={data.items} onCustomer={setCustomer} atStake />
          }
        </Async>
      </section>
    </>
  );
}
