import { z } from "zod";

// The API's own rules (auth router): the browser says so before the round trip; the API says so again.
export const email = z.string().trim().min(3, "enter your e-mail").max(254).email("not an e-mail address");
export const newPassword = z
  .string()
  .min(10, "at least 10 characters")
  .max(256)
  .regex(/[a-z]/, "needs a lower-case letter")
  .regex(/[A-Z]/, "needs an upper-case letter")
  .regex(/[0-9]/, "needs a digit");
export const code = z
  .string()
  .trim()
  .min(1, "enter the code from the e-mail")
  .max(16)
  .regex(/^[A-Za-z0-9:_-]+$/, "letters and digits only");

export const loginSchema = z.object({
  email,
  password: z.string().min(1, "enter your password").max(256),
  remember_me: z.boolean(),
});
export const signUpSchema = z.object({
  email,
  password: newPassword,
  company_name: z.string().trim().min(2, "at least 2 characters").max(120),
});
export const confirmSchema = z.object({ email, code });
export const forgotSchema = z.object({ email });
export const resetSchema = z.object({ email, code, new_password: newPassword });
export const firstPasswordSchema = z.object({
  email,
  temporary_password: z.string().min(1, "enter the temporary password from the invitation").max(256),
  new_password: newPassword,
  remember_me: z.boolean(),
});
