import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";

import { ApiError } from "../api/problem";
import { backfillUnderway } from "../screens/Connect";
import { retrainingFinished } from "../screens/Models";
import { SubmitButton, useAction } from "./actions";
import { ToastProvider } from "./Toasts";

function Approve({ work, reload }: { work: () => Promise<string>; reload: () => void }) {
  const { busy, run } = useAction();
  return (
    <button type="button" disabled={busy !== null} onClick={() => void run("approve", work, (id) => `Approved #${id}.`).then((ok) => ok && reload())}>
      Approve
    </button>
  );
}

describe("actions and their toasts", () => {
  it("says what was done, and only then lets the screen reload", async () => {
    const reload = vi.fn();
    render(
      <ToastProvider>
        <Approve work={async () => "42"} reload={reload} />
      </ToastProvider>,
    );
    await userEvent.click(screen.getByRole("button", { name: "Approve" }));
    expect(await screen.findByText("Approved #42.")).toBeInTheDocument();
    expect(reload).toHaveBeenCalledTimes(1);
    expect(screen.getByRole("button", { name: "Approve" })).toBeEnabled();
  });

  it("shows the API's problem as an alert, and does not reload", async () => {
    const reload = vi.fn();
    const refused = new ApiError({ status: 409, title: "Conflict", detail: "the store's price moved" });
    render(
      <ToastProvider>
        <Approve work={() => Promise.reject(refused)} reload={reload} />
      </ToastProvider>,
    );
    await userEvent.click(screen.getByRole("button", { name: "Approve" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(refused.message);
    expect(reload).not.toHaveBeenCalled();
  });

  it("a submit button says what it does while the request runs", () => {
    const { rerender } = render(<SubmitButton submitting={false}>Save the rules</SubmitButton>);
    expect(screen.getByRole("button", { name: "Save the rules" })).toBeEnabled();
    rerender(<SubmitButton submitting busy="Scheduling…">Save the rules</SubmitButton>);
    expect(screen.getByRole("button", { name: "Scheduling…" })).toBeDisabled();
  });
});

describe("waiting for background work", () => {
  it("follows a back-fill until every resource is done, and a store just connected before it starts", () => {
    expect(backfillUnderway([], true)).toBe(true);
    expect(backfillUnderway([], false)).toBe(false);
    expect(backfillUnderway([{ status: "done" }, { status: "running" }], false)).toBe(true);
    expect(backfillUnderway([{ status: "done" }, { status: "done" }], true)).toBe(false);
  });

  it("a retraining is finished once every kind has a finished run since the request", () => {
    const run = (kind: string, status: string, started_at: string) =>
      ({ run_id: kind, kind, version: "v", status, started_at, finished_at: null, duration_seconds: null, rows_used: 1, metrics: {}, reason: null });
    const asked = "2026-12-02T10:00:00Z";
    const old = run("forecast", "succeeded", "2026-12-01T10:00:00Z");
    expect(retrainingFinished([old], 2, asked)).toBe(false);
    expect(retrainingFinished([run("forecast", "succeeded", "2026-12-02T10:01:00Z"), run("pricing", "running", "2026-12-02T10:01:00Z")], 2, asked)).toBe(false);
    expect(retrainingFinished([run("forecast", "succeeded", "2026-12-02T10:01:00Z"), run("pricing", "rejected", "2026-12-02T10:02:00Z"), old], 2, asked)).toBe(true);
  });
});
