import { useNavigate, useSearchParams } from "react-router-dom";

import { api, unwrap } from "../../api/client";
import { Field, FormError, useApiForm } from "../../ui/forms";
import { useToast } from "../../ui/Toasts";
import { PublicShell } from "./PublicShell";
import { resetSchema } from "./schemas";

export default function Reset() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const notify = useToast();
  const { form, formError, submit } = useApiForm(
    resetSchema,
    { email: params.get("email") ?? "", code: "", new_password: "" },
    async (values) => {
      await unwrap(api.POST("/auth/reset-password", { body: values }));
      notify("Your password is changed: log in with the new one.");
      navigate(`/login?email=${encodeURIComponent(values.email)}`);
    },
  );
  const errors = form.formState.errors;
  return (
    <PublicShell title="Set a new password">
      <form onSubmit={submit} noValidate className="panel form">
        <Field label="E-mail" name="email" type="email" registration={form.register("email")} error={errors.email?.message} />
        <Field label="Code from the e-mail" name="code" registration={form.register("code")} error={errors.code?.message} />
        <Field label="New password" name="new_password" type="password" autoComplete="new-password" registration={form.register("new_password")} error={errors.new_password?.message} />
        <FormError message={formError} />
        <button type="submit">Change the password</button>
      </form>
    </PublicShell>
  );
}
