import { z } from "zod";

import { api, unwrap, type Schemas } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { formatNumber } from "../shaping/forecast";
import { SubmitButton, useAction } from "../ui/actions";
import { Field, FormError, useApiForm } from "../ui/forms";
import { Async } from "../ui/States";
import { useToast } from "../ui/Toasts";
import { useApi } from "../ui/useApi";

type Member = Schemas["MemberResponse"];
type Role = "owner" | "staff" | "read-only";

export const ROLES: { value: Role; label: string }[] = [
  { value: "read-only", label: "Read-only: sees every screen, changes nothing" },
  { value: "staff", label: "Staff: approves prices, runs campaigns" },
  { value: "owner", label: "Owner: also the team, the plan and the stores" },
];

const inviteSchema = z.object({
  email: z.string().trim().min(3, "enter their e-mail").max(254).email("not an e-mail address"),
  role: z.enum(["read-only", "staff", "owner"]),
});

/** A member the signed-in owner may act on: never themself (another owner changes or removes them). */
export function canManage(member: Member, myId: string): boolean {
  return member.user_id !== myId;
}

export function MemberTable({ list, myId, reload }: { list: Member[]; myId: string; reload: () => void }) {
  const { busy, run } = useAction();
  async function act(key: string, work: () => Promise<unknown>, done: string) {
    if (await run(key, work, () => done)) reload();
  }
  const changeRole = (member: Member, role: Role) =>
    act(
      `role-${member.user_id}`,
      () => unwrap(api.PATCH("/tenant/members/{user_id}", { params: { path: { user_id: member.user_id } }, body: { role } })),
      `${member.email ?? member.user_id} is now ${role}.`,
    );
  const remove = (member: Member) => {
    if (!window.confirm(`Remove ${member.email ?? member.user_id} from the team? Their sessions end at once.`)) return;
    void act(
      `remove-${member.user_id}`,
      () => unwrap(api.DELETE("/tenant/members/{user_id}", { params: { path: { user_id: member.user_id } } })),
      `${member.email ?? member.user_id} was removed; their sessions have ended.`,
    );
  };
  return (
    <table>
      <caption className="visually-hidden">The tenant's members and their roles</caption>
      <thead>
        <tr>
          <th scope="col">E-mail</th>
          <th scope="col">Role</th>
          <th scope="col">Member since</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody>
        {list.map((member) => {
          const name = member.email ?? member.user_id;
          const manageable = canManage(member, myId);
          return (
            <tr key={member.user_id}>
              <th scope="row">
                {name}
                {manageable ? null : <span className="muted"> (you)</span>}
              </th>
              <td>
                {manageable ? (
                  <select
                    aria-label={`Role of ${name}`}
                    value={member.role}
                    disabled={busy !== null}
                    onChange={(event) => void changeRole(member, event.target.value as Role)}
                  >
                    {ROLES.map((role) => (
                      <option key={role.value} value={role.value}>
                        {role.value}
                      </option>
                    ))}
                  </select>
                ) : (
                  member.role
                )}
              </td>
              <td>{new Date(member.created_at).toLocaleDateString("en-GB")}</td>
              <td className="actions">
                {manageable ? (
                  <button
                    type="button"
                    className="secondary"
                    aria-label={`Remove ${name}`}
                    disabled={busy !== null}
                    onClick={() => remove(member)}
                  >
                    Remove
                  </button>
                ) : (
                  <span className="muted">another owner can change you</span>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Invite({ onInvited }: { onInvited: () => void }) {
  const notify = useToast();
  const { form, formError, submit } = useApiForm(inviteSchema, { email: "", role: "staff" }, async (values) => {
    const member = await unwrap(api.POST("/tenant/invitations", { body: values }));
    notify(`Invitation sent to ${member.email ?? values.email} as ${member.role}: they set their password from its e-mail.`);
    form.reset({ email: "", role: values.role });
    onInvited();
  });
  const roleError = form.formState.errors.role?.message;
  return (
    <form onSubmit={submit} noValidate className="form" aria-labelledby="invite-title">
      <h3 id="invite-title">Invite a colleague</h3>
      <Field label="Colleague's e-mail" name="email" type="email" registration={form.register("email")} error={form.formState.errors.email?.message} />
      <div className="field">
        <label htmlFor="field-role">Role</label>
        <select id="field-role" aria-invalid={roleError ? true : undefined} {...form.register("role")}>
          {ROLES.map((role) => (
            <option key={role.value} value={role.value}>
              {role.label}
            </option>
          ))}
        </select>
        {roleError ? <small className="field-error">⚠ {roleError}</small> : null}
      </div>
      <FormError message={formError} />
      <SubmitButton submitting={form.formState.isSubmitting} busy="Inviting…">
        Send the invitation
      </SubmitButton>
    </form>
  );
}

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
  const { can, me } = useAuth();
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
          <>
            <Async state={members} what="the members">
              {(list) => <MemberTable list={list} myId={me?.user_id ?? ""} reload={members.reload} />}
            </Async>
            <Invite onInvited={members.reload} />
          </>
        )}
      </section>
    </>
  );
}
