import { useNavigate, useSearchParams } from "react-router-dom";

import { api, unwrap } from "../../api/client";
import { Field, FormError, useApiForm } from "../../ui/forms";
import { useToast } from "../../ui/Toasts";
import { PublicShell } from "./PublicShell";
import { confirmSchema } from "./schemas";

export default function Confirm() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const notify = useToast();
  const { form, formError, submit } = useApiForm(confirmSchema, { email: params.get("email") ?? "", code: "" }, async (values) => {
    await unwrap(api.POST("/auth/confirm", { body: values }));
    notify("Your e-mail is confirmed: log in.");
    navigate(`/login?email=${encodeURIComponent(values.email)}`);
  });
  const errors = form.formState.errors;
  return (
    <PublicShell title="Confirm your e-mail">
      <form onSubmit={submit} noValidate className="panel form">
        <Field label="E-mail" name="email" type="email" registration={form.register("email")} error={errors.email?.message} />
        <Field label="Code from the e-mail" name="code" autoComplete="one-time-code" registration={form.register("code")} error={errors.code?.message} />
        <FormError message={formError} />
        <button type="submit">Confirm</button>
      </form>
    </PublicShell>
  );
}
