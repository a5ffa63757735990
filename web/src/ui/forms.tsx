import { zodResolver } from "@hookform/resolvers/zod";
import { useState, type InputHTMLAttributes, type ReactNode } from "react";
import {
  useForm,
  type DefaultValues,
  type FieldValues,
  type Path,
  type UseFormRegisterReturn,
  type UseFormReturn,
} from "react-hook-form";
import type { z } from "zod";

import { ApiError, fieldErrors } from "../api/problem";

interface FieldProps extends InputHTMLAttributes<HTMLInputElement> {
  label: string;
  name: string;
  registration: UseFormRegisterReturn;
  error?: string | undefined;
  hint?: ReactNode;
}

/** The form's own error (not tied to one field), announced as soon as it appears. */
export function FormError({ message }: { message: string | null | undefined }) {
  return message ? (
    <p role="alert" className="field-error">
      ⚠ {message}
    </p>
  ) : null;
}

/** A labelled input whose error (the form's or the API's) is read out with it. */
export function Field({ label, name, registration, error, hint, ...input }: FieldProps) {
  const id = `field-${name}`;
  const described = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={described || undefined}
        {...input}
        {...registration}
      />
      {hint ? (
        <small id={`${id}-hint`} className="muted">
          {hint}
        </small>
      ) : null}
      {error ? (
        <small id={`${id}-error`} className="field-error">
          ⚠ {error}
        </small>
      ) : null}
    </div>
  );
}

export interface ApiForm<T extends FieldValues> {
  form: UseFormReturn<T>;
  /** An error of the whole form (not about one field): shown above the button. */
  formError: string | null;
  submit: (event?: React.BaseSyntheticEvent) => Promise<void>;
}

/** react-hook-form + zod; the API's problem+json errors land next to the field they name. */
export function useApiForm<S extends z.ZodType<FieldValues>>(
  schema: S,
  defaults: DefaultValues<z.infer<S>>,
  onValid: (values: z.infer<S>) => Promise<void>,
): ApiForm<z.infer<S>> {
  const form = useForm<z.infer<S>>({ resolver: zodResolver(schema), defaultValues: defaults });
  const [formError, setFormError] = useState<string | null>(null);
  const submit = form.handleSubmit(async (values) => {
    setFormError(null);
    try {
      await onValid(values);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const byField = fieldErrors(error.problem);
      const known = Object.keys(byField).filter((name) => name in (form.getValues() as object));
      for (const name of known) form.setError(name as Path<z.infer<S>>, { message: byField[name] });
      if (known.length === 0) setFormError(error.message);
    }
  });
  return { form, formError, submit };
}
