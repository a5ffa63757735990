import { Link, useNavigate, useSearchParams } from "react-router-dom";

import { ApiError } from "../../api/problem";
import { useAuth } from "../../auth/AuthContext";
import { Field, FormError, useApiForm } from "../../ui/forms";
import { PublicShell } from "./PublicShell";
import { loginSchema } from "./schemas";

/** Only a path of this app: never a redirect to another site. */
export function safeNext(next: string | null, fallback: string): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : fallback;
}

/** The API's 403 for a login that must set its own password first (Cognito's NEW_PASSWORD_REQUIRED). */
export function needsOwnPassword(detail: string | undefined): boolean {
  return /NEW_PASSWORD_REQUIRED/.test(detail ?? "");
}

export default function Login() {
  const { login } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const { form, formError, submit } = useApiForm(
    loginSchema,
    { email: params.get("email") ?? "", password: "", remember_me: false },
    async (values) => {
      let me;
      try {
        me = await login(values.email, values.password, values.remember_me);
      } catch (error) {
        // An invited colleague's temporary password: they choose their own first.
        if (error instanceof ApiError && error.status === 403 && needsOwnPassword(error.problem.detail)) {
          navigate(`/welcome?email=${encodeURIComponent(values.email)}`);
          return;
        }
        throw error;
      }
      navigate(safeNext(params.get("next"), me.role === "admin" ? "/admin" : "/app"), { replace: true });
    },
  );
  const errors = form.formState.errors;
  return (
    <PublicShell title="Log in">
      <form onSubmit={submit} noValidate className="panel form">
        <Field label="E-mail" name="email" type="email" autoComplete="username" registration={form.register("email")} error={errors.email?.message} />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          registration={form.register("password")}
          error={errors.password?.message}
        />
        <div className="check">
          <input id="remember" type="checkbox" {...form.register("remember_me")} />
          <label htmlFor="remember">Remember me for 30 days on this device</label>
        </div>
        <FormError message={formError} />
        <button type="submit" disabled={form.formState.isSubmitting}>
          {form.formState.isSubmitting ? "Logging in…" : "Log in"}
        </button>
        <p>
          <Link to="/forgot">Forgot your password?</Link> · <Link to="/signup">Create an account</Link>
        </p>
      </form>
    </PublicShell>
  );
}
