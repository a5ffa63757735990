import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router-dom";

import { ApiError } from "../../api/problem";
import { safeNext } from "./Login";
import { loginSchema, signUpSchema } from "./schemas";
import { Field, useApiForm } from "../../ui/forms";

function SignUpLike({ submit }: { submit: () => Promise<void> }) {
  const { form, formError, submit: onSubmit } = useApiForm(signUpSchema, { email: "", password: "", company_name: "" }, submit);
  const errors = form.formState.errors;
  return (
    <form onSubmit={onSubmit} noValidate>
      <Field label="Company" name="company_name" registration={form.register("company_name")} error={errors.company_name?.message} />
      <Field label="E-mail" name="email" registration={form.register("email")} error={errors.email?.message} />
      <Field label="Password" name="password" type="password" registration={form.register("password")} error={errors.password?.message} />
      {formError ? <p role="alert">{formError}</p> : null}
      <button type="submit">Go</button>
    </form>
  );
}

describe("forms", () => {
  it("check the API's password rule before sending", () => {
    expect(signUpSchema.safeParse({ email: "a@b.example", password: "short", company_name: "Maison" }).success).toBe(false);
    expect(loginSchema.safeParse({ email: "a@b.example", password: "x", remember_me: true }).success).toBe(true);
  });

  it("show the API's field errors next to the field they name", async () => {
    const refuse = vi.fn(async () => {
      throw new ApiError({
        status: 422,
        detail: "the request is not valid: body.email",
        errors: [{ location: "body.email", message: "this e-mail is already registered" }],
      });
    });
    render(
      <MemoryRouter>
        <SignUpLike submit={refuse} />
      </MemoryRouter>,
    );
    await userEvent.type(screen.getByLabelText("Company"), "Maison");
    await userEvent.type(screen.getByLabelText("E-mail"), "owner@shop.example");
    await userEvent.type(screen.getByLabelText("Password"), "Correct-Horse-7");
    await userEvent.click(screen.getByRole("button", { name: "Go" }));
    const email = screen.getByLabelText("E-mail");
    expect(email).toHaveAttribute("aria-invalid", "true");
    expect(email).toHaveAccessibleDescription(/already registered/);
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("show an error about no field above the button", async () => {
    const refuse = vi.fn(async () => {
      throw new ApiError({ status: 409, detail: "an account exists for this e-mail" });
    });
    render(<SignUpLike submit={refuse} />);
    await userEvent.type(screen.getByLabelText("Company"), "Maison");
    await userEvent.type(screen.getByLabelText("E-mail"), "owner@shop.example");
    await userEvent.type(screen.getByLabelText("Password"), "Correct-Horse-7");
    await userEvent.click(screen.getByRole("button", { name: "Go" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("an account exists");
  });

  it("return after log-in only to a path of this app", () => {
    expect(safeNext("/app/prices?x=1", "/app")).toBe("/app/prices?x=1");
    expect(safeNext("//evil.example", "/app")).toBe("/app");
    expect(safeNext("https://evil.example", "/app")).toBe("/app");
    expect(safeNext(null, "/app")).toBe("/app");
  });
});
