import { useNavigate } from "react-router-dom";

import { api, unwrap } from "../../api/client";
import { Field, FormError, useApiForm } from "../../ui/forms";
import { useToast } from "../../ui/Toasts";
import { PublicShell } from "./PublicShell";
import { signUpSchema } from "./schemas";

export default function SignUp() {
  const navigate = useNavigate();
  const notify = useToast();
  const { form, formError, submit } = useApiForm(signUpSchema, { email: "", password: "", company_name: "" }, async (values) => {
    const result = await unwrap(api.POST("/auth/signup", { body: values }));
    const email = encodeURIComponent(values.email);
    if (result.confirmed) {
      notify("Your account is ready: log in.");
      navigate(`/login?email=${email}`);
    } else {
      notify("We sent a code to your e-mail.", "info");
      navigate(`/confirm?email=${email}`);
    }
  });
  const errors = form.formState.errors;
  return (
    <PublicShell title="Create your account">
      <form onSubmit={submit} noValidate className="panel form">
        <Field label="Company name" name="company_name" autoComplete="organization" registration={form.register("company_name")} error={errors.company_name?.message} />
        <Field label="E-mail" name="email" type="email" autoComplete="email" registration={form.register("email")} error={errors.email?.message} />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          hint="10 characters or more, with upper and lower case and a digit"
          registration={form.register("password")}
          error={errors.password?.message}
        />
        <FormError message={formError} />
        <button type="submit" disabled={form.formState.isSubmitting}>
          Sign up
        </button>
      </form>
    </PublicShell>
  );
}
