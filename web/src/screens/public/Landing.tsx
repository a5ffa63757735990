import { Link } from "react-router-dom";

import { api, unwrap } from "../../api/client";
import { Async } from "../../ui/States";
import { useApi } from "../../ui/useApi";
import { PublicShell } from "./PublicShell";

const QUOTA_NAMES: Record<string, string> = {
  api_calls: "API calls",
  training_runs: "training runs",
  messages: "campaign messages",
  storefront_requests: "storefront recommendations",
};

export default function Landing() {
  const plans = useApi(() => unwrap(api.GET("/plans")), []);
  return (
    <PublicShell title="Decisions for your WooCommerce store">
      <p className="lead">
        Demand forecasts with their uncertainty, what to reorder and when, customers at risk, prices worth
        changing, and campaigns that prove their lift — from your own store's data.
      </p>
      <p>
        <Link className="button" to="/signup">
          Start free
        </Link>{" "}
        <Link to="/login">I have an account</Link>
      </p>
      <h2>Plans</h2>
      <Async state={plans} what="the plans">
        {(data) => (
          <ul className="plans">
            {data.plans.map((plan) => (
              <li key={plan.plan} className="panel">
                <h3>{plan.plan}</h3>
                <p className="price">
                  {plan.monthly_price_eur === 0 ? "Free" : `€${plan.monthly_price_eur} / month`}
                </p>
                <ul>
                  <li>up to {plan.max_products.toLocaleString()} products</li>
                  <li>up to {plan.max_orders.toLocaleString()} orders</li>
                  <li>channels: {plan.campaign_channels.join(", ")}</li>
                  {plan.quotas.map((quota) => (
                    <li key={quota.limit}>
                      {quota.allowed.toLocaleString()} {QUOTA_NAMES[quota.limit] ?? quota.limit} per {quota.period}
                    </li>
                  ))}
                </ul>
              </li>
            ))}
          </ul>
        )}
      </Async>
    </PublicShell>
  );
}
