import { useState } from "react";
import { useNavigate } from "react-router-dom";

import { api, setImpersonation, unwrap, type Schemas } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { useAction } from "../ui/actions";
import { Async, Empty } from "../ui/States";
import { useApi } from "../ui/useApi";

type Tenant = Schemas["TenantSummary"];

function Audit({ tenantId }: { tenantId: string }) {
  const audit = useApi(
    () => unwrap(api.GET("/admin/tenants/{tenant_id}/audit", { params: { path: { tenant_id: tenantId }, query: { limit: 20 } } })),
    [tenantId],
  );
  return (
    <section className="panel" aria-labelledby="audit-title">
      <h2 id="audit-title">Audit trail of {tenantId}</h2>
      <Async state={audit} what="the audit trail">
        {(data) =>
          data.items.length === 0 ? (
            <Empty>No audit record.</Empty>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Action</th>
                  <th scope="col">By</th>
                  <th scope="col">Reason</th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((item, index) => (
                  <tr key={`${item.created_at}-${index}`}>
                    <td>{new Date(item.created_at).toLocaleString("en-GB")}</td>
                    <th scope="row">{item.action}</th>
                    <td>{item.actor}</td>
                    <td>{item.reason ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Async>
    </section>
  );
}

export default function Admin() {
  const { me, logout, refreshMe } = useAuth();
  const navigate = useNavigate();
  const tenants = useApi(() => unwrap(api.GET("/admin/tenants", { params: { query: { limit: 100 } } })), []);
  const [selected, setSelected] = useState<string | null>(null);
  const [reason, setReason] = useState("");
  const action = useAction();
  const busy = action.busy !== null;
  const reasonOk = reason.trim().length >= 5;

  async function act(label: string, work: () => Promise<unknown>) {
    if (await action.run(label, work, () => label)) tenants.reload();
  }

  const status = (tenant: Tenant, verb: "suspend" | "reactivate") =>
    act(`${tenant.name} is ${verb === "suspend" ? "suspended" : "active again"}.`, () =>
      unwrap(
        verb === "suspend"
          ? api.POST("/admin/tenants/{tenant_id}/suspend", { params: { path: { tenant_id: tenant.tenant_id } }, body: { reason } })
          : api.POST("/admin/tenants/{tenant_id}/reactivate", { params: { path: { tenant_id: tenant.tenant_id } }, body: { reason } }),
      ),
    );

  const plan = (tenant: Tenant, value: "free" | "growth" | "pro") =>
    act(`${tenant.name} is on the ${value} plan.`, () =>
      unwrap(api.PUT("/admin/tenants/{tenant_id}/plan", { params: { path: { tenant_id: tenant.tenant_id } }, body: { plan: value } })),
    );

  const impersonate = (tenant: Tenant) =>
    act(`Acting in ${tenant.name} as read-only (recorded in its audit trail).`, async () => {
      const started = await unwrap(
        api.POST("/admin/tenants/{tenant_id}/impersonate", {
          params: { path: { tenant_id: tenant.tenant_id } },
          body: { reason, role: "read-only" },
        }),
      );
      setImpersonation(started.session);
      await refreshMe();
      navigate("/app");
    });

  return (
    <div className="public">
      <header className="topbar">
        <span className="brand">LuxeBrain · platform admin</span>
        <span className="tenant">{me?.user_id}</span>
        <button type="button" className="secondary" onClick={() => void logout()}>
          Sign out everywhere
        </button>
      </header>
      <main id="main" className="public-main admin-main">
        <h1>Tenants</h1>
        <div className="field reason">
          <label htmlFor="admin-reason">Reason (recorded with every action, 5 characters or more)</label>
          <input id="admin-reason" value={reason} onChange={(event) => setReason(event.target.value)} />
        </div>
        <Async state={tenants} what="the tenants">
          {(data) => (
            <table>
              <thead>
                <tr>
                  <th scope="col">Tenant</th>
                  <th scope="col">Status</th>
                  <th scope="col">Plan</th>
                  <th scope="col">Since</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((tenant) => (
                  <tr key={tenant.tenant_id}>
                    <th scope="row">
                      {tenant.name} <span className="muted">({tenant.tenant_id})</span>
                    </th>
                    <td>{tenant.status === "active" ? "✔ active" : `✖ ${tenant.status}`}</td>
                    <td>
                      <select
                        aria-label={`Plan of ${tenant.name}`}
                        value={tenant.plan}
                        disabled={busy}
                        onChange={(event) => void plan(tenant, event.target.value as "free" | "growth" | "pro")}
                      >
                        <option value="free">free</option>
                        <option value="growth">growth</option>
                        <option value="pro">pro</option>
                      </select>
                    </td>
                    <td>{new Date(tenant.created_at).toLocaleDateString("en-GB")}</td>
                    <td className="actions">
                      {tenant.status === "active" ? (
                        <button type="button" disabled={busy || !reasonOk} onClick={() => void status(tenant, "suspend")}>
                          Suspend<span className="visually-hidden"> {tenant.name}</span>
                        </button>
                      ) : (
                        <button type="button" disabled={busy || !reasonOk} onClick={() => void status(tenant, "reactivate")}>
                          Reactivate<span className="visually-hidden"> {tenant.name}</span>
                        </button>
                      )}
                      <button type="button" className="secondary" disabled={busy || !reasonOk} onClick={() => void impersonate(tenant)}>
                        Impersonate<span className="visually-hidden"> {tenant.name}</span>
                      </button>
                      <button type="button" className="secondary" onClick={() => setSelected(tenant.tenant_id)}>
                        Audit<span className="visually-hidden"> of {tenant.name}</span>
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Async>
        {selected ? <Audit tenantId={selected} /> : null}
      </main>
    </div>
  );
}
