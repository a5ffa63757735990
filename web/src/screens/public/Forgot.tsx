import { useNavigate } from "react-router-dom";

import { api, unwrap } from "../../api/client";
import { Field, FormError, useApiForm } from "../../ui/forms";
import { useToast } from "../../ui/Toasts";
import { PublicShell } from "./PublicShell";
import { forgotSchema } from "./schemas";

export default function Forgot() {
  const navigate = useNavigate();
  const notify = useToast();
  const { form, formError, submit } = useApiForm(forgotSchema, { email: "" }, async (values) => {
    const answer = await unwrap(api.POST("/auth/forgot-password", { body: values }));
    notify(answer.detail, "info");
    navigate(`/reset?email=${encodeURIComponent(values.email)}`);
  });
  return (
    <PublicShell title="Forgot your password?">
      <form onSubmit={submit} noValidate className="panel form">
        <Field label="E-mail" name="email" type="email" registration={form.register("email")} error={form.formState.errors.email?.message} />
        <FormError message={formError} />
        <button type="submit">Send me a reset code</button>
      </form>
    </PublicShell>
  );
}
