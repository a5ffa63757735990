import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";

import { needsOwnPassword } from "./public/Login";
import { firstPasswordSchema } from "./public/schemas";

const calls = vi.hoisted(() => ({ patch: vi.fn(), del: vi.fn() }));

vi.mock("../api/client", () => ({
  api: { PATCH: calls.patch, DELETE: calls.del },
  unwrap: async (call: Promise<{ data: unknown }>) => (await call).data,
}));

const members = [
  { user_id: "owner-1", email: "me@shop.example", role: "owner", created_at: "2026-11-01T10:00:00Z" },
  { user_id: "staff-2", email: "ann@shop.example", role: "staff", created_at: "2026-11-20T10:00:00Z" },
];

describe("team", () => {
  it("changes another member's role through the API, never the owner's own", async () => {
    const { MemberTable } = await import("./Team");
    calls.patch.mockResolvedValue({ data: { ...members[1], role: "read-only" } });
    const reload = vi.fn();
    render(<MemberTable list={members} myId="owner-1" reload={reload} />);
    expect(screen.queryByLabelText("Role of me@shop.example")).toBeNull();
    const mine = screen.getByRole("row", { name: /me@shop\.example/ });
    expect(within(mine).queryByRole("button", { name: /Remove/ })).toBeNull();
    await userEvent.selectOptions(screen.getByLabelText("Role of ann@shop.example"), "read-only");
    expect(calls.patch).toHaveBeenCalledWith("/tenant/members/{user_id}", {
      params: { path: { user_id: "staff-2" } },
      body: { role: "read-only" },
    });
    expect(reload).toHaveBeenCalled();
  });

  it("removes a member only once the owner confirms", async () => {
    const { MemberTable } = await import("./Team");
    calls.del.mockResolvedValue({ data: undefined });
    const confirm = vi.spyOn(window, "confirm").mockReturnValueOnce(false).mockReturnValueOnce(true);
    render(<MemberTable list={members} myId="owner-1" reload={() => undefined} />);
    const remove = screen.getByRole("button", { name: "Remove ann@shop.example" });
    await userEvent.click(remove);
    expect(calls.del).not.toHaveBeenCalled();
    await userEvent.click(remove);
    expect(calls.del).toHaveBeenCalledWith("/tenant/members/{user_id}", { params: { path: { user_id: "staff-2" } } });
    confirm.mockRestore();
  });

  it("sends an invited colleague to choose their own password", () => {
    expect(needsOwnPassword("the account needs a further step first (NEW_PASSWORD_REQUIRED)")).toBe(true);
    expect(needsOwnPassword("confirm your e-mail address first")).toBe(false);
    const base = { email: "ann@shop.example", temporary_password: "Tmp-x", remember_me: false };
    expect(firstPasswordSchema.safeParse({ ...base, new_password: "short" }).success).toBe(false);
    expect(firstPasswordSchema.safeParse({ ...base, new_password: "Own-Pass-Word-42" }).success).toBe(true);
  });
});
