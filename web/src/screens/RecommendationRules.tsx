import { z } from "zod";

import { api, unwrap, type Schemas } from "../api/client";
import { SubmitButton } from "../ui/actions";
import { Field, FormError, useApiForm } from "../ui/forms";
import { Async } from "../ui/States";
import { useToast } from "../ui/Toasts";
import { useApi, type Loaded } from "../ui/useApi";
import { ENTITY_ID as ID, parseIds } from "../shaping/ids";

type Rules = Schemas["RulesResponse"];

/** "205:0.3, 17:-0.2" -> {"205": 0.3, "17": -0.2}; null when a part is not id:amount. */
export function parseBoosts(text: string): Record<string, number> | null {
  const boosts: Record<string, number> = {};
  for (const part of parseIds(text)) {
    const [id, amount, ...rest] = part.split(":");
    const value = Number(amount);
    if (rest.length || !id || !ID.test(id) || amount === undefined || amount === "" || !Number.isFinite(value)) return null;
    boosts[id] = value;
  }
  return boosts;
}

export function boostsText(boosts: Record<string, number>): string {
  return Object.entries(boosts)
    .map(([id, amount]) => `${id}:${amount}`)
    .join(", ");
}

const idList = z.string().refine((text) => parseIds(text).every((id) => ID.test(id)), "ids are letters, digits and . _ : @ -");

export const rulesSchema = z.object({
  pinned: idList.refine((text) => parseIds(text).length <= 20, "at most 20 pinned products"),
  boosts: z
    .string()
    .refine((text) => parseBoosts(text) !== null, "write id:amount, e.g. 205:0.3")
    .refine((text) => Object.values(parseBoosts(text) ?? {}).every((amount) => amount >= -1 && amount <= 1), "amounts from -1 to 1"),
  blocked: idList,
});

function RulesForm({ rules, saved }: { rules: Rules; saved: (rules: Rules) => void }) {
  const notify = useToast();
  const { form, formError, submit } = useApiForm(
    rulesSchema,
    { pinned: rules.pinned.join(", "), boosts: boostsText(rules.boosts), blocked: rules.blocked.join(", ") },
    async (values) => {
      const answer = await unwrap(
        api.PUT("/recommendations/rules", {
          body: { pinned: parseIds(values.pinned), boosts: parseBoosts(values.boosts) ?? {}, blocked: parseIds(values.blocked) },
        }),
      );
      notify("Rules saved: every recommendation follows them now.");
      saved(answer);
    },
  );
  const errors = form.formState.errors;
  return (
    <form onSubmit={submit} noValidate className="form">
      <Field
        label="Pinned first (in this order)"
        name="pinned"
        hint="Product ids, shown first wherever they may be shown"
        registration={form.register("pinned")}
        error={errors.pinned?.message}
      />
      <Field
        label="Boosted"
        name="boosts"
        hint="id:amount, e.g. 205:0.3 (the best candidate scores about 1; negative amounts demote)"
        registration={form.register("boosts")}
        error={errors.boosts?.message}
      />
      <Field label="Never shown" name="blocked" hint="Product ids" registration={form.register("blocked")} error={errors.blocked?.message} />
      <FormError message={formError} />
      <SubmitButton submitting={form.formState.isSubmitting}>Save the rules</SubmitButton>
    </form>
  );
}

/** Pin / boost / block: the merchant's say over every recommendation (previews, the widget, campaigns). */
export function RecommendationRulesPanel({ writer, onSaved }: { writer: boolean; onSaved: () => void }) {
  const rules: Loaded<Rules> = useApi(() => unwrap(api.GET("/recommendations/rules")), []);
  return (
    <section className="panel" aria-labelledby="rules-title">
      <h2 id="rules-title">Rules: pin, boost, block</h2>
      <Async state={rules} what="the rules">
        {(data) =>
          writer ? (
            <RulesForm
              key={data.updated_at ?? "none"}
              rules={data}
              saved={(answer) => {
                rules.setData(answer);
                onSaved();
              }}
            />
          ) : (
            <ul>
              <li>Pinned first: {data.pinned.join(", ") || "none"}</li>
              <li>Boosted: {boostsText(data.boosts) || "none"}</li>
              <li>Never shown: {data.blocked.join(", ") || "none"}</li>
            </ul>
          )
        }
      </Async>
    </section>
  );
}
