import { useState } from "react";
import { z } from "zod";

import { api, unwrap, type Schemas } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { SubmitButton } from "../ui/actions";
import { FormError, useApiForm } from "../ui/forms";
import { Async } from "../ui/States";
import { LivePreview, type Flow } from "../ui/TemplatePreview";
import { useToast } from "../ui/Toasts";
import { useApi } from "../ui/useApi";

type FlowOverview = Schemas["FlowOverview"];
type Settings = Schemas["CampaignSettings"];
const PARTS = ["subject", "html", "text", "sms"] as const;
type Part = (typeof PARTS)[number];

const source = z.string().max(50_000, "at most 50,000 characters");
export const flowTemplateSchema = z.object({ enabled: z.boolean(), subject: source, html: source, text: source, sms: source });
export type FlowTemplateValues = z.infer<typeof flowTemplateSchema>;

/** The parts the merchant changed from LuxeBrain's default (what the settings keep: the rest follows the default). */
export function changedParts(values: Record<Part, string>, defaults: Record<string, string>): Record<string, string> {
  return Object.fromEntries(PARTS.filter((part) => values[part] !== (defaults[part] ?? "")).map((part) => [part, values[part]]));
}

/** The whole campaign settings with one flow's template and on/off changed (the API replaces them as one). */
export function settingsWith(settings: Settings, flow: string, values: FlowTemplateValues, defaults: Record<string, string>): Settings {
  const templates = { ...(settings.templates ?? {}) };
  const changed = changedParts(values, defaults);
  if (Object.keys(changed).length) templates[flow] = changed;
  else delete templates[flow];
  // A flow never configured is sent with its on/off only: the API fills in that flow's own defaults.
  const configured = { ...(settings.flows?.[flow] ?? {}), enabled: values.enabled } as NonNullable<Settings["flows"]>[string];
  const flows = { ...(settings.flows ?? {}), [flow]: configured };
  return { ...settings, templates, flows };
}

const LABELS: Record<Part, string> = { subject: "Subject", html: "HTML body", text: "Text body", sms: "SMS / WhatsApp message" };

function FlowEditor({ flow, owner, onSaved }: { flow: FlowOverview; owner: boolean; onSaved: () => void }) {
  const notify = useToast();
  const name = flow.flow.replace(/_/g, " ");
  const { form, formError, submit } = useApiForm(
    flowTemplateSchema,
    { enabled: flow.enabled, ...Object.fromEntries(PARTS.map((part) => [part, flow.template[part] ?? ""])) },
    async (values) => {
      const settings = (await unwrap(api.GET("/campaigns/settings"))) as Settings;
      await unwrap(api.PUT("/campaigns/settings", { body: settingsWith(settings, flow.flow, values, flow.default) }));
      notify(`The ${name} flow is ${values.enabled ? "on" : "off"}; its template is saved.`);
      onSaved();
    },
  );
  const values = form.watch();
  const errors = form.formState.errors;
  const parts = flow.channel === "email" ? (["subject", "html", "text"] as const) : (["sms"] as const);
  const template = Object.fromEntries(parts.map((part) => [part, values[part]]).filter(([, text]) => text !== ""));
  return (
    <form onSubmit={submit} noValidate className="panel builder" aria-labelledby={`flow-title-${flow.flow}`}>
      <h2 id={`flow-title-${flow.flow}`}>Template of the {name} flow</h2>
      <div className="check">
        <input id={`flow-enabled-${flow.flow}`} type="checkbox" disabled={!owner} {...form.register("enabled")} />
        <label htmlFor={`flow-enabled-${flow.flow}`}>The {name} flow is on ({flow.channel})</label>
      </div>
      <div className="builder-columns">
        <div>
          {parts.map((part) => (
            <div className="field" key={part}>
              <label htmlFor={`flow-${flow.flow}-${part}`}>{LABELS[part]}</label>
              <textarea
                id={`flow-${flow.flow}-${part}`}
                rows={part === "html" ? 6 : part === "subject" ? 1 : 3}
                readOnly={!owner}
                aria-invalid={errors[part] ? true : undefined}
                aria-describedby={errors[part] ? `flow-${flow.flow}-${part}-error` : undefined}
                {...form.register(part)}
              />
              {errors[part] ? (
                <small id={`flow-${flow.flow}-${part}-error`} className="field-error">
                  ⚠ {errors[part]?.message}
                </small>
              ) : null}
            </div>
          ))}
          <p className="muted">
            {flow.customised.length ? `Changed from LuxeBrain's template: ${flow.customised.join(", ")}.` : "LuxeBrain's template, unchanged."}
          </p>
        </div>
        <LivePreview flow={flow.flow as Flow} channel={flow.channel} template={template} />
      </div>
      <FormError message={formError} />
      {owner ? (
        <div className="toolbar">
          <SubmitButton submitting={form.formState.isSubmitting}>Save the {name} flow</SubmitButton>
          <button
            type="button"
            className="secondary"
            onClick={() => PARTS.forEach((part) => form.setValue(part, flow.default[part] ?? "", { shouldDirty: true }))}
          >
            Back to LuxeBrain's template
          </button>
        </div>
      ) : (
        <p className="notice">Only the owner changes the flows and their templates.</p>
      )}
    </form>
  );
}

/** The flows on / off, each with its template: an editor with the live preview the one-off builder uses. */
export function FlowsPanel({ onResults }: { onResults: (flow: string) => void }) {
  const owner = useAuth().can("owner");
  const flows = useApi(() => unwrap(api.GET("/campaigns/flows")), []);
  const [editing, setEditing] = useState<string | null>(null);
  return (
    <>
      <section className="panel" aria-labelledby="flows-title">
        <h2 id="flows-title">Flows</h2>
        <Async state={flows} what="the flows">
          {(data) => (
            <table>
              <thead>
                <tr>
                  <th scope="col">Flow</th>
                  <th scope="col">Status</th>
                  <th scope="col">Channel</th>
                  <th scope="col">Template</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.flows.map((flow) => {
                  const name = flow.flow.replace(/_/g, " ");
                  return (
                    <tr key={flow.flow}>
                      <th scope="row">{name}</th>
                      <td>{flow.enabled ? "✔ on" : "✖ off"}</td>
                      <td>{flow.channel}</td>
                      <td>{flow.customised.length ? `changed (${flow.customised.join(", ")})` : "default"}</td>
                      <td className="actions">
                        <button
                          type="button"
                          className="secondary"
                          aria-pressed={editing === flow.flow}
                          onClick={() => setEditing(editing === flow.flow ? null : flow.flow)}
                        >
                          Template<span className="visually-hidden"> of the {name} flow</span>
                        </button>{" "}
                        <button type="button" className="secondary" onClick={() => onResults(flow.flow)}>
                          Results<span className="visually-hidden"> of the {name} flow</span>
                        </button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </Async>
      </section>
      {editing && flows.data
        ? (() => {
            const flow = flows.data.flows.find((candidate) => candidate.flow === editing);
            return flow ? <FlowEditor key={`${flow.flow}-${flow.customised.join()}-${flow.enabled}`} flow={flow} owner={owner} onSaved={flows.reload} /> : null;
          })()
        : null}
    </>
  );
}
