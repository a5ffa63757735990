import { z } from "zod";

import { api, unwrap } from "../api/client";
import { SubmitButton } from "../ui/actions";
import { Field, FormError, useApiForm } from "../ui/forms";
import { LivePreview, type Channel } from "../ui/TemplatePreview";
import { useToast } from "../ui/Toasts";
import { useApi } from "../ui/useApi";

// Segments that need no customer model (the API's own names), then the model's RFM segments.
const BUILT_IN_SEGMENTS = [
  { value: "all_customers", label: "All customers" },
  { value: "recent_customers:30", label: "Bought in the last 30 days" },
];

// The starting template of a one-off campaign (the API's default for "campaign"): the merchant edits it.
const STARTER = {
  subject: "News from {{ store.store_name }}",
  html: "<p>{{ customer.first_name or 'Dear client' }}, a selection for you.</p>",
  text: "{{ customer.first_name or 'Dear client' }}, a selection for you: {{ store.store_url }}",
  sms: "{{ store.store_name }}: a selection for you {{ store.store_url }}",
};

const percent = z.coerce.number().min(0, "0 % or more").max(50, "at most 50 %");

export const builderSchema = z
  .object({
    name: z.string().trim().min(1, "name the campaign").max(200),
    segment: z.string().min(1, "choose a segment").max(64),
    channel: z.enum(["email", "sms", "whatsapp"]),
    subject: z.string().max(50_000),
    html: z.string().max(50_000),
    text: z.string().max(50_000),
    sms: z.string().max(50_000),
    ab: z.boolean(),
    subject_b: z.string().max(50_000),
    sms_b: z.string().max(50_000),
    holdout_percent: percent,
    scheduled_at: z.string().min(1, "choose when to send"),
  })
  .superRefine((values, context) => {
    if (values.channel === "email" && !values.subject.trim()) context.addIssue({ code: "custom", path: ["subject"], message: "an e-mail needs a subject" });
    if (values.channel !== "email" && !values.sms.trim()) context.addIssue({ code: "custom", path: ["sms"], message: "the message is empty" });
    if (values.ab && values.channel === "email" && !values.subject_b.trim())
      context.addIssue({ code: "custom", path: ["subject_b"], message: "variant B needs its subject" });
    if (values.ab && values.channel !== "email" && !values.sms_b.trim())
      context.addIssue({ code: "custom", path: ["sms_b"], message: "variant B needs its message" });
    if (Number.isNaN(new Date(values.scheduled_at).getTime())) context.addIssue({ code: "custom", path: ["scheduled_at"], message: "not a date and time" });
  });

export type BuilderValues = z.infer<typeof builderSchema>;

/** The template parts a channel sends (an e-mail: subject, HTML and text; a short message: its text). */
export function templateOf(values: Pick<BuilderValues, "channel" | "subject" | "html" | "text" | "sms">): Record<string, string> {
  return values.channel === "email" ? { subject: values.subject, html: values.html, text: values.text } : { sms: values.sms };
}

/** The API's campaign: one template, or an A/B test of two variants (B differs in its subject or message), with
 * the hold-out share that measures the lift over sending nothing. */
export function campaignBody(values: BuilderValues) {
  const template = templateOf(values);
  const holdout = Math.round(values.holdout_percent * 10) / 1000;
  const variantB: Record<string, string> = values.channel === "email" ? { ...template, subject: values.subject_b } : { sms: values.sms_b };
  return {
    name: values.name,
    segment: values.segment,
    channel: values.channel as Channel,
    scheduled_at: new Date(values.scheduled_at).toISOString(),
    template,
    holdout_fraction: holdout,
    conversion_window_days: 7,
    ...(values.ab ? { ab_test: { variants: { a: template, b: variantB }, holdout_fraction: holdout } } : {}),
  };
}

function localInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function CampaignBuilder({ onLaunched }: { onLaunched: (campaignId: string) => void }) {
  const notify = useToast();
  const segments = useApi(() => unwrap(api.GET("/segments")).catch(() => null), []);
  const modelSegments = (segments.data?.segments ?? []).map((entry) => String(entry.segment));
  const { form, formError, submit } = useApiForm(
    builderSchema,
    {
      name: "",
      segment: "all_customers",
      channel: "email",
      ...STARTER,
      ab: false,
      subject_b: "",
      sms_b: "",
      holdout_percent: 10,
      scheduled_at: localInput(new Date(Date.now() + 10 * 60_000)),
    },
    async (values) => {
      const created = (await unwrap(api.POST("/campaigns", { body: campaignBody(values) }))) as { campaign_id: string; name: string };
      notify(`Campaign “${created.name}” scheduled${values.ab ? " as an A/B test" : ""}.`);
      onLaunched(created.campaign_id);
    },
  );
  const errors = form.formState.errors;
  const values = form.watch();
  const channel = values.channel;
  return (
    <form onSubmit={submit} noValidate className="panel builder" aria-labelledby="builder-title">
      <h2 id="builder-title">New campaign</h2>
      <fieldset>
        <legend>1. Who: the segment</legend>
        <div className="field">
          <label htmlFor="field-segment">Segment</label>
          <select id="field-segment" {...form.register("segment")}>
            {BUILT_IN_SEGMENTS.map((segment) => (
              <option key={segment.value} value={segment.value}>
                {segment.label}
              </option>
            ))}
            {modelSegments.map((segment) => (
              <option key={segment} value={segment}>
                {segment} (customer model)
              </option>
            ))}
          </select>
        </div>
      </fieldset>
      <fieldset>
        <legend>2. How: the channel</legend>
        {(["email", "sms", "whatsapp"] as const).map((option) => (
          <div className="check" key={option}>
            <input id={`channel-${option}`} type="radio" value={option} {...form.register("channel")} />
            <label htmlFor={`channel-${option}`}>{option === "email" ? "E-mail" : option === "sms" ? "SMS" : "WhatsApp"}</label>
          </div>
        ))}
      </fieldset>
      <fieldset>
        <legend>3. What: the template</legend>
        <div className="builder-columns">
          <div>
            {channel === "email" ? (
              <>
                <Field label="Subject" name="subject" registration={form.register("subject")} error={errors.subject?.message} />
                <div className="field">
                  <label htmlFor="field-html">HTML body</label>
                  <textarea id="field-html" rows={5} {...form.register("html")} />
                </div>
                <div className="field">
                  <label htmlFor="field-text">Text body</label>
                  <textarea id="field-text" rows={3} {...form.register("text")} />
                </div>
              </>
            ) : (
              <div className="field">
                <label htmlFor="field-sms">Message</label>
                <textarea
                  id="field-sms"
                  rows={3}
                  aria-invalid={errors.sms ? true : undefined}
                  aria-describedby={errors.sms ? "field-sms-error" : undefined}
                  {...form.register("sms")}
                />
                {errors.sms ? (
                  <small id="field-sms-error" className="field-error">
                    ⚠ {errors.sms.message}
                  </small>
                ) : null}
              </div>
            )}
            <p className="muted">
              Jinja2, rendered in the same sandbox as the sender: <code>{"{{ customer.first_name }}"}</code>,{" "}
              <code>{"{{ store.store_name }}"}</code>, <code>{"{{ products }}"}</code>…
            </p>
          </div>
          <LivePreview flow="campaign" channel={channel} template={templateOf(values)} />
        </div>
      </fieldset>
      <fieldset>
        <legend>4. Arms and hold-out</legend>
        <div className="check">
          <input id="field-ab" type="checkbox" {...form.register("ab")} />
          <label htmlFor="field-ab">A/B test: a variant B with another {channel === "email" ? "subject" : "message"}</label>
        </div>
        {values.ab ? (
          channel === "email" ? (
            <Field label="Variant B subject" name="subject_b" registration={form.register("subject_b")} error={errors.subject_b?.message} />
          ) : (
            <Field label="Variant B message" name="sms_b" registration={form.register("sms_b")} error={errors.sms_b?.message} />
          )
        ) : null}
        <Field
          label="Hold-out (% of the segment sent nothing)"
          name="holdout_percent"
          type="number"
          min={0}
          max={50}
          step={1}
          hint="The lift is measured against them: 10 % is a good start."
          registration={form.register("holdout_percent")}
          error={errors.holdout_percent?.message}
        />
      </fieldset>
      <fieldset>
        <legend>5. When</legend>
        <Field label="Campaign name" name="name" registration={form.register("name")} error={errors.name?.message} />
        <Field
          label="Send at"
          name="scheduled_at"
          type="datetime-local"
          registration={form.register("scheduled_at")}
          error={errors.scheduled_at?.message}
        />
      </fieldset>
      <FormError message={formError} />
      <SubmitButton submitting={form.formState.isSubmitting} busy="Scheduling…">
        Schedule the campaign
      </SubmitButton>
    </form>
  );
}
