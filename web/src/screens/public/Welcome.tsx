import { useNavigate, useSearchParams } from "react-router-dom";

import { api, unwrap } from "../../api/client";
import { useAuth } from "../../auth/AuthContext";
import { Field, FormError, useApiForm } from "../../ui/forms";
import { useToast } from "../../ui/Toasts";
import { PublicShell } from "./PublicShell";
import { firstPasswordSchema } from "./schemas";

/** An invited colleague's first visit: the temporary password from the invitation e-mail, then their own. */
export default function Welcome() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const notify = useToast();
  const { signInWith } = useAuth();
  const { form, formError, submit } = useApiForm(
    firstPasswordSchema,
    { email: params.get("email") ?? "", temporary_password: "", new_password: "", remember_me: false },
    async (values) => {
      const tokens = await unwrap(api.POST("/auth/first-password", { body: values }));
      await signInWith(tokens, values.remember_me);
      notify("Welcome: your password is set.");
      navigate("/app", { replace: true });
    },
  );
  const errors = form.formState.errors;
  return (
    <PublicShell title="Join your team">
      <form onSubmit={submit} noValidate className="panel form">
        <p className="muted">Your invitation e-mail has a temporary password. Choose your own to finish.</p>
        <Field label="E-mail" name="email" type="email" autoComplete="username" registration={form.register("email")} error={errors.email?.message} />
        <Field
          label="Temporary password"
          name="temporary_password"
          type="password"
          autoComplete="off"
          registration={form.register("temporary_password")}
          error={errors.temporary_password?.message}
        />
        <Field
          label="Your new password"
          name="new_password"
          type="password"
          autoComplete="new-password"
          hint="10 characters or more, with upper and lower case and a digit"
          registration={form.register("new_password")}
          error={errors.new_password?.message}
        />
        <div className="check">
          <input id="remember" type="checkbox" {...form.register("remember_me")} />
          <label htmlFor="remember">Remember me for 30 days on this device</label>
        </div>
        <FormError message={formError} />
        <button type="submit" disabled={form.formState.isSubmitting}>
          {form.formState.isSubmitting ? "Setting it…" : "Set my password"}
        </button>
      </form>
    </PublicShell>
  );
}
