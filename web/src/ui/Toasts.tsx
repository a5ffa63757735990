import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from "react";

export type ToastKind = "success" | "error" | "info";

interface Toast {
  id: number;
  kind: ToastKind;
  text: string;
}

type Notify = (text: string, kind?: ToastKind) => void;

const ToastContext = createContext<Notify>(() => undefined);

const LABELS: Record<ToastKind, string> = { success: "Done", error: "Failed", info: "Note" };

/** Results of actions, announced to screen readers (a polite live region; errors assertive), with a word
 * ("Done", "Failed") so nothing is told by colour alone. */
export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(1);
  const dismiss = useCallback((id: number) => setToasts((all) => all.filter((toast) => toast.id !== id)), []);
  const notify = useCallback<Notify>(
    (text, kind = "success") => {
      const id = next.current++;
      // Requests refused together (a session that ended) say the same thing once.
      setToasts((all) => (all.some((toast) => toast.text === text) ? all : [...all.slice(-3), { id, kind, text }]));
      window.setTimeout(() => dismiss(id), kind === "error" ? 10_000 : 5_000);
    },
    [dismiss],
  );
  const value = useMemo(() => notify, [notify]);
  return (
    <ToastContext.Provider value={value}>
      {children}
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((toast) => (
          <div key={toast.id} className={`toast toast-${toast.kind}`} role={toast.kind === "error" ? "alert" : undefined}>
            <strong>{LABELS[toast.kind]}:</strong> {toast.text}
            <button type="button" className="link" onClick={() => dismiss(toast.id)} aria-label="Dismiss">
              ×
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

export function useToast(): Notify {
  return useContext(ToastContext);
}
