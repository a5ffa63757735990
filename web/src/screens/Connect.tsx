import { useEffect, useState } from "react";
import { useSearchParams } from "react-router-dom";
import { z } from "zod";

import { api, unwrap, type Schemas } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { formatNumber } from "../shaping/forecast";
import { failureText, SubmitButton } from "../ui/actions";
import { Field, FormError, useApiForm } from "../ui/forms";
import { Async, Empty } from "../ui/States";
import { useToast } from "../ui/Toasts";
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

const TOPIC_STATUS: Record<string, string> = {
  active: "✔ active",
  paused: "⏸ paused",
  disabled: "✖ disabled",
  unknown: "? not seen yet",
};

export function topicStatus(status: string): string {
  return TOPIC_STATUS[status] ?? status;
}

/** UTC "2026-12-02T01:10:00" as the store's records are stamped -> the merchant's local time. */
export function utcStamp(stamp: string | null | undefined): string {
  if (!stamp) return "never";
  const date = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(stamp) ? stamp : `${stamp}Z`);
  return Number.isNaN(date.getTime()) ? stamp : date.toLocaleString("en-GB");
}

type Webhooks = Schemas["WebhooksStatus"];

function WebhookTopics({ storeId, webhooks, reload }: { storeId: string; webhooks: Webhooks; reload: () => void }) {
  const { can } = useAuth();
  const notify = useToast();
  const [waitingSince, setWaitingSince] = useState<string | null | undefined>(undefined);
  const waiting = waitingSince !== undefined;
  useEffect(() => {
    // The check runs in the back-fill function: look again until its run is newer than the last one.
    if (!waiting) return;
    if (webhooks.checked_at && webhooks.checked_at !== waitingSince) {
      setWaitingSince(undefined);
      notify(webhooks.error ? `The check failed: ${webhooks.error}` : "Webhooks checked: every topic is set right.", webhooks.error ? "error" : "success");
      return;
    }
    const timer = window.setTimeout(reload, 2000);
    return () => window.clearTimeout(timer);
  }, [waiting, waitingSince, webhooks.checked_at, webhooks.error, reload, notify]);
  const check = async () => {
    try {
      const queued = await unwrap(api.POST("/stores/{store_id}/webhooks/check", { params: { path: { store_id: storeId } } }));
      setWaitingSince(queued.previous_check_at ?? null);
      notify("Checking the store's webhooks…", "info");
    } catch (error) {
      notify(failureText(error), "error");
    }
  };
  return (
    <>
      <table>
        <caption>Webhooks per topic</caption>
        <thead>
          <tr>
            <th scope="col">Topic</th>
            <th scope="col">Status in WooCommerce</th>
            <th scope="col">Found off</th>
            <th scope="col">Re-enabled</th>
            <th scope="col">Last re-enabled</th>
          </tr>
        </thead>
        <tbody>
          {webhooks.topics.map((topic) => (
            <tr key={topic.topic}>
              <th scope="row">{topic.topic}</th>
              <td>{topicStatus(topic.status)}</td>
              <td>{formatNumber(topic.times_found_off)}</td>
              <td>{formatNumber(topic.re_enables)}</td>
              <td>{topic.last_re_enabled_at ? utcStamp(topic.last_re_enabled_at) : "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        Last checked: {utcStamp(webhooks.checked_at)}
        {webhooks.error ? (
          <strong className="field-error">
            {" "}
            ⚠ {webhooks.error}
            {webhooks.failing_since ? ` (since ${utcStamp(webhooks.failing_since)})` : ""}
          </strong>
        ) : null}
        . LuxeBrain checks every hour and re-enables what WooCommerce disabled.
      </p>
      {can("staff") ? (
        <button type="button" onClick={() => void check()} disabled={waiting}>
          {waiting ? "Checking…" : "Check and re-enable now"}
        </button>
      ) : null}
    </>
  );
}

function RejectedRecords({ storeId }: { storeId: string }) {
  const rejected = useApi(
    () => unwrap(api.GET("/stores/{store_id}/rejected", { params: { path: { store_id: storeId }, query: { days: 7 } } })),
    [storeId],
  );
  return (
    <Async state={rejected} what="the rejected records">
      {(data) =>
        data.items.length === 0 ? (
          <p className="muted">No record was rejected in the last {data.days} days.</p>
        ) : (
          <table>
            <caption>
              Rejected records, last {data.days} days{data.truncated ? ` (the newest ${data.items.length})` : ""}
            </caption>
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Topic</th>
                <th scope="col">Record</th>
                <th scope="col">Why it was refused</th>
                <th scope="col">Delivery</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((item) => (
                <tr key={`${item.received_at}-${item.body_sha256}`}>
                  <th scope="row">{utcStamp(item.received_at)}</th>
                  <td>{item.topic}</td>
                  <td>{item.resource_id ?? "—"}</td>
                  <td>{item.reason}</td>
                  <td>{item.delivery_id ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      }
    </Async>
  );
}

const BACKFILL_POLL_MS = 3000;

/** Whether the back-fill is still to be watched: running, or not started yet for a store just connected. */
export function backfillUnderway(backfill: { status: string }[], justConnected: boolean): boolean {
  return backfill.some((line) => line.status !== "done") || (justConnected && backfill.length === 0);
}

function Health({ storeId, justConnected }: { storeId: string; justConnected: boolean }) {
  const status = useApi(
    () => unwrap(api.GET("/stores/{store_id}/ingest-status", { params: { path: { store_id: storeId } } })),
    [storeId],
  );
  const underway = status.data !== undefined && backfillUnderway(status.data.backfill, justConnected);
  const { reload, loading } = status;
  useEffect(() => {
    if (!underway || loading) return;
    const timer = window.setTimeout(reload, BACKFILL_POLL_MS);
    return () => window.clearTimeout(timer);
  }, [underway, loading, reload, status.data]);
  return (
    <Async state={status} what="the store's health">
      {(data) => (
        <>
          <WebhookTopics storeId={storeId} webhooks={data.webhooks} reload={status.reload} />
          <p>
            <strong>{HEALTH[data.webhook_health] ?? data.webhook_health}</strong>
            {data.last_event_at ? ` · last event ${new Date(data.last_event_at).toLocaleString("en-GB")}` : ""}
          </p>
          <p>
            Stored: {Object.entries(data.counts).map(([name, count]) => `${formatNumber(count)} ${name}`).join(", ")}. Rejected in
            the last 24 hours: {data.rejected_events}
            {data.last_rejection ? ` (last: ${data.last_rejection})` : ""}.
          </p>
          <RejectedRecords storeId={storeId} />
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
                    <th scope="row">{line.resource === "_run" ? "the whole store" : line.resource}</th>
                    <td>{line.status}</td>
                    <td>
                      {formatNumber(line.items_done)}
                      {line.total != null ? ` of ${formatNumber(line.total)}` : ""}
                    </td>
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

/** Back from WooCommerce's approval page, which says whether the merchant approved. */
function ConnectionOutcome({ approved }: { approved: boolean }) {
  return approved ? (
    <p className="notice" role="status">
      ✔ Store connected. LuxeBrain registers its webhooks and back-fills the store's history now: the progress is below.
    </p>
  ) : (
    <p className="notice" role="alert">
      ✖ The store did not approve the connection. Connect again and choose “Approve” on your store's page.
    </p>
  );
}

export default function Connect() {
  const { can } = useAuth();
  const stores = useApi(() => unwrap(api.GET("/stores")), []);
  const [redirecting, setRedirecting] = useState(false);
  const [params] = useSearchParams();
  const fromPlugin = (params.get("store_url") ?? "").replace(/\/$/, "");
  const connecting = params.get("connecting");
  const { form, formError, submit } = useApiForm(connectSchema, { url: fromPlugin }, async (values) => {
    const started = await unwrap(api.POST("/stores/connect", { body: { url: values.url, currency: "EUR" } }));
    setRedirecting(true);
    window.location.assign(started.authorize_url); // the store's own wc-auth approval page
  });
  return (
    <>
      <h1>Store connection and health</h1>
      {connecting ? <ConnectionOutcome approved={params.get("success") === "1"} /> : null}
      {can("owner") ? (
        <form onSubmit={submit} noValidate className="panel form" aria-labelledby="connect-title">
          <h2 id="connect-title">Connect a WooCommerce store</h2>
          <p className="muted">You approve read and write access on your store's own page; it then sends us its keys.</p>
          <Field label="Shop address" name="url" type="url" registration={form.register("url")} error={form.formState.errors.url?.message} />
          <FormError message={formError} />
          <SubmitButton submitting={redirecting || form.formState.isSubmitting} busy="Opening your store…">
            Connect with WooCommerce
          </SubmitButton>
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
                  <Health storeId={store.store_id} justConnected={store.store_id === connecting} />
                </section>
              ))}
            </>
          )
        }
      </Async>
    </>
  );
}
