import { useState } from "react";
import { useSearchParams } from "react-router-dom";
import { z } from "zod";

import { api, unwrap } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { formatNumber } from "../shaping/forecast";
import { Field, useApiForm } from "../ui/forms";
import { Async, Empty } from "../ui/States";
import { useApi } from "../ui/useApi";

const connectSchema = z.object({
  url: z
    .string()
    .trim()
    .url("the shop's address, e.g. https://shop.example")
    .refine((value) => /^https:\/\//.test(value) || /^http:\/\/(localhost|127\.0\.0\.1)/.test(value), "must start with https://"),
});

const HEALTH: Record<string, string> = {
  ok: "✔ OK: deliveries arrive and are accepted",
  failing: "✖ Failing: deliveries were rejected in the last 24 hours",
  silent: "● Silent: no delivery has arrived yet",
};

function Health({ storeId }: { storeId: string }) {
  const status = useApi(
    () => unwrap(api.GET("/stores/{store_id}/ingest-status", { params: { path: { store_id: storeId } } })),
    [storeId],
  );
  return (
    <Async state={status} what="the store's health">
      {(data) => (
        <>
          <p>
            <strong>{HEALTH[data.webhook_health] ?? data.webhook_health}</strong>
            {data.last_event_at ? ` · last event ${new Date(data.last_event_at).toLocaleString("en-GB")}` : ""}
          </p>
          <p>
            Stored: {Object.entries(data.counts).map(([name, count]) => `${formatNumber(count)} ${name}`).join(", ")}. Rejected in
            the last 24 hours: {data.rejected_events}
            {data.last_rejection ? ` (last: ${data.last_rejection})` : ""}.
          </p>
          {data.backfill.length ? (
            <table>
              <caption className="visually-hidden">Back-fill progress</caption>
              <thead>
                <tr>
                  <th scope="col">Back-fill of</th>
                  <th scope="col">Status</th>
                  <th scope="col">Items</th>
                  <th scope="col">Pages</th>
                </tr>
              </thead>
              <tbody>
                {data.backfill.map((line) => (
                  <tr key={line.resource}>
                    <th scope="row">{line.resource}</th>
                    <td>{line.status}</td>
                    <td>{formatNumber(line.items_done)}</td>
                    <td>
                      <progress max={line.total_pages ?? undefined} value={line.next_page - 1} aria-label={`${line.resource} pages`} />{" "}
                      {line.next_page - 1} of {line.total_pages ?? "?"}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="muted">No back-fill has run for this store.</p>
          )}
        </>
      )}
    </Async>
  );
}

export default function Connect() {
  const { can } = useAuth();
  const stores = useApi(() => unwrap(api.GET("/stores")), []);
  const [redirecting, setRedirecting] = useState(false);
  const [params] = useSearchParams();
  const fromPlugin = (params.get("store_url") ?? "").replace(/\/$/, "");
  const { form, formError, submit } = useApiForm(connectSchema, { url: fromPlugin }, async (values) => {
    const started = await unwrap(api.POST("/stores/connect", { body: { url: values.url, currency: "EUR" } }));
    setRedirecting(true);
    window.location.assign(started.authorize_url); // the store's own wc-auth approval page
  });
  return (
    <>
      <h1>Store connection and health</h1>
      {can("owner") ? (
        <form onSubmit={submit} noValidate className="panel form" aria-labelledby="connect-title">
          <h2 id="connect-title">Connect a WooCommerce store</h2>
          <p className="muted">You approve read and write access on your store's own page; it then sends us its keys.</p>
          <Field label="Shop address" name="url" type="url" registration={form.register("url")} error={form.formState.errors.url?.message} />
          {formError ? (
            <p role="alert" className="field-error">
              ⚠ {formError}
            </p>
          ) : null}
          <button type="submit" disabled={redirecting}>
            {redirecting ? "Opening your store…" : "Connect with WooCommerce"}
          </button>
        </form>
      ) : null}
      <Async state={stores} what="the stores">
        {(data) =>
          data.items.length === 0 ? (
            <Empty>No store connected yet.</Empty>
          ) : (
            <>
              {data.items.map((store) => (
                <section key={store.store_id} className="panel" aria-label={`Store ${store.url}`}>
                  <h2>
                    {store.url} <span className="muted">({store.status}, {store.currency})</span>
                  </h2>
                  <Health storeId={store.store_id} />
                </section>
              ))}
            </>
          )
        }
      </Async>
    </>
  );
}
