import { api, unwrap } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { formatNumber } from "../shaping/forecast";
import { Async } from "../ui/States";
import { useApi } from "../ui/useApi";

const LIMIT_NAMES: Record<string, string> = {
  api_calls: "API calls",
  training_runs: "Training runs",
  messages: "Campaign messages",
  storefront_requests: "Storefront recommendations",
};

/** "api_calls_per_month" -> "API calls" (the period is its own column). */
export function limitName(limit: string): string {
  const base = limit.replace(/_per_(month|day|minute)$/, "");
  return LIMIT_NAMES[base] ?? base.replace(/_/g, " ");
}

export function usageShare(used: number, allowed: number): number {
  return allowed > 0 ? Math.min(1, used / allowed) : 0;
}

export default function Team() {
  const { can } = useAuth();
  const owner = can("owner");
  const plan = useApi(() => unwrap(api.GET("/tenant/plan")), []);
  const members = useApi(async () => (owner ? unwrap(api.GET("/tenant/members")) : []), [owner]);
  return (
    <>
      <h1>Team and plan</h1>
      <section className="panel" aria-labelledby="plan-title">
        <h2 id="plan-title">Plan and this period's usage</h2>
        <Async state={plan} what="the plan">
          {(data) => (
            <>
              <p>
                Plan <strong>{data.plan}</strong> ({data.monthly_price_eur === 0 ? "free" : `€${data.monthly_price_eur} a month`}): up to{" "}
                {formatNumber(data.max_products)} products and {formatNumber(data.max_orders)} orders; channels{" "}
                {data.campaign_channels.join(", ")}.
              </p>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Limit</th>
                    <th scope="col">Used</th>
                    <th scope="col">Allowed</th>
                    <th scope="col">Period</th>
                    <th scope="col">Share used</th>
                  </tr>
                </thead>
                <tbody>
                  {data.usage.map((line) => {
                    const share = usageShare(line.used, line.allowed);
                    return (
                      <tr key={line.limit}>
                        <th scope="row">{limitName(line.limit)}</th>
                        <td>{formatNumber(line.used)}</td>
                        <td>{formatNumber(line.allowed)}</td>
                        <td>{line.period}</td>
                        <td>
                          <meter min={0} max={1} value={share} high={0.8} aria-label={`${limitName(line.limit)} used`} />{" "}
                          {(share * 100).toFixed(1)} %
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </>
          )}
        </Async>
      </section>
      <section className="panel" aria-labelledby="members-title">
        <h2 id="members-title">Members</h2>
        {!owner ? (
          <p className="muted">Only the tenant's owners see and manage its members.</p>
        ) : (
          <Async state={members} what="the members">
            {(list) => (
              <table>
                <thead>
                  <tr>
                    <th scope="col">E-mail</th>
                    <th scope="col">Role</th>
                    <th scope="col">Member since</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((member) => (
                    <tr key={member.user_id}>
                      <th scope="row">{member.email ?? member.user_id}</th>
                      <td>{member.role}</td>
                      <td>{new Date(member.created_at).toLocaleDateString("en-GB")}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Async>
        )}
      </section>
    </>
  );
}
