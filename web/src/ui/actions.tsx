import { useCallback, useState, type ReactNode } from "react";

import { ApiError } from "../api/problem";
import { useToast } from "./Toasts";

// Beside forms.tsx's FormError, without the form library: screens that only act (Prices, Admin) stay small.

/** A form's submit button: disabled and saying what it does (``busy``) while the request runs. */
export function SubmitButton({ submitting, busy = "Saving…", children }: { submitting: boolean; busy?: string; children: ReactNode }) {
  return (
    <button type="submit" disabled={submitting}>
      {submitting ? busy : children}
    </button>
  );
}

/** What a failed action says in its toast: the API's problem, or the error itself. */
export function failureText(error: unknown): string {
  return error instanceof ApiError ? error.message : String(error);
}

export interface Action {
  /** The key of the action running now (null: none), to disable the other buttons meanwhile. */
  busy: string | null;
  /** Run ``work``; its result's toast is ``done(result)``, a failure's the API's problem. True when it worked. */
  run: <T>(key: string, work: () => Promise<T>, done: (result: T) => string) => Promise<boolean>;
}

/** A button's request with its toast: the one way screens act outside forms (approve, suspend, remove, …). */
export function useAction(): Action {
  const notify = useToast();
  const [busy, setBusy] = useState<string | null>(null);
  const run = useCallback(
    async <T,>(key: string, work: () => Promise<T>, done: (result: T) => string): Promise<boolean> => {
      setBusy(key);
      try {
        notify(done(await work()));
        return true;
      } catch (error) {
        notify(failureText(error), "error");
        return false;
      } finally {
        setBusy(null);
      }
    },
    [notify],
  );
  return { busy, run };
}
