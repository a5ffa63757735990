import { useState } from "react";
import { z } from "zod";

import { api, unwrap, type Schemas } from "../api/client";
import { ApiError } from "../api/problem";
import { useAuth } from "../auth/AuthContext";
import { formatNumber } from "../shaping/forecast";
import { useAction } from "../ui/actions";
import { Field, FormError, useApiForm } from "../ui/forms";
import { Async, Empty, Failure } from "../ui/States";
import { useApi } from "../ui/useApi";
import { ENTITY_ID as ID, parseIds } from "../shaping/ids";
import { RecommendationRulesPanel } from "./RecommendationRules";

type Answer = Schemas["RecommendationResponse"];

export { parseIds };

const previewSchema = z
  .object({
    mode: z.enum(["similar", "for-you", "basket"]),
    subject: z.string().trim().min(1, "enter an id"),
  })
  .superRefine((value, context) => {
    const ids = value.mode === "basket" ? parseIds(value.subject) : [value.subject];
    if (ids.length === 0 || ids.length > 50 || ids.some((id) => !ID.test(id)))
      context.addIssue({ code: "custom", path: ["subject"], message: "ids are letters, digits and . _ : @ -" });
  });

function Items({ answer }: { answer: Answer }) {
  if (answer.items.length === 0) return <Empty>No recommendation for this.</Empty>;
  return (
    <>
      <p className="muted">
        Strategy {answer.strategy}, model {answer.model_version}.
      </p>
      <table>
        <thead>
          <tr>
            <th scope="col">Rank</th>
            <th scope="col">Product</th>
            <th scope="col">Score</th>
            <th scope="col">Lift</th>
          </tr>
        </thead>
        <tbody>
          {answer.items.map((item, index) => (
            <tr key={item.product_id}>
              <td>{index + 1}</td>
              <th scope="row">
                #{item.product_id}
                {item.pinned ? " (pinned)" : ""}
              </th>
              <td>{formatNumber(item.score, 3)}</td>
              <td>{formatNumber(item.lift ?? null, 2)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function StorefrontKey() {
  const { run } = useAction();
  const key = useApi(() => unwrap(api.GET("/tenant/storefront-key")), []);
  const [issued, setIssued] = useState<string | null>(null);
  const rotate = async () => {
    const rotated = await run(
      "rotate",
      () => unwrap(api.POST("/tenant/storefront-key")),
      (answer) => {
        setIssued(answer.key);
        return answer.previous_key_valid_until ? "New key issued; the old one works for 15 more minutes." : "Storefront key created.";
      },
    );
    if (rotated) key.reload();
  };
  return (
    <section className="panel" aria-labelledby="key-title">
      <h2 id="key-title">Storefront key</h2>
      <p className="muted">The publishable key of your shop's recommendation widget: it can read recommendations only.</p>
      <Async state={key} what="the storefront key">
        {(data) => (
          <>
            <p>{data ? `Key ${data.key_id}, created ${new Date(data.created_at).toLocaleString("en-GB")}.` : "No key yet."}</p>
            {issued ? (
              <p>
                <label htmlFor="issued-key">Copy it now (shown once):</label>{" "}
                <input id="issued-key" readOnly value={issued} size={48} onFocus={(event) => event.target.select()} />
              </p>
            ) : null}
            <button type="button" onClick={() => void rotate()}>
              {data ? "Rotate the key" : "Create a key"}
            </button>
          </>
        )}
      </Async>
    </section>
  );
}

export default function Recommendations() {
  const { can } = useAuth();
  const trending = useApi(() => unwrap(api.GET("/recommendations/popular", { params: { query: { k: 5 } } })), []);
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const { form, formError, submit } = useApiForm(previewSchema, { mode: "similar", subject: "" }, async (values) => {
    setFailure(null);
    try {
      const result =
        values.mode === "similar"
          ? await unwrap(api.GET("/recommendations/similar", { params: { query: { product_id: values.subject, k: 8 } } }))
          : values.mode === "for-you"
            ? await unwrap(api.GET("/recommendations/for-you", { params: { query: { customer_id: values.subject, k: 8 } } }))
            : await unwrap(api.POST("/recommendations/basket", { body: { product_ids: parseIds(values.subject), k: 8 } }));
      setAnswer(result);
    } catch (error) {
      setAnswer(null);
      if (error instanceof ApiError && error.status !== 422) setFailure(error);
      else throw error;
    }
  });
  return (
    <>
      <h1>Recommendations</h1>
      <form onSubmit={submit} noValidate className="panel form" aria-labelledby="preview-title">
        <h2 id="preview-title">Preview</h2>
        <div className="field">
          <label htmlFor="preview-mode">For</label>
          <select id="preview-mode" {...form.register("mode")}>
            <option value="similar">a product (goes with it)</option>
            <option value="for-you">a customer (personal picks)</option>
            <option value="basket">a basket (product ids)</option>
          </select>
        </div>
        <Field label="Product, customer or basket ids" name="subject" registration={form.register("subject")} error={form.formState.errors.subject?.message} />
        <FormError message={formError} />
        <button type="submit">Preview</button>
      </form>
      {failure ? <Failure error={failure} /> : null}
      {answer ? (
        <section className="panel" aria-labelledby="answer-title">
          <h2 id="answer-title">What the storefront would show</h2>
          <Items answer={answer} />
        </section>
      ) : null}
      <section className="panel" aria-labelledby="trending-title">
        <h2 id="trending-title">Trending now</h2>
        <Async state={trending} what="the trending products">
          {(data) => <Items answer={data} />}
        </Async>
      </section>
      <RecommendationRulesPanel
        writer={can("staff")}
        onSaved={() => {
          trending.reload();
          setAnswer(null); // asked again, the preview follows the new rules
        }}
      />
      {can("owner") ? <StorefrontKey /> : null}
    </>
  );
}
