import { moneyWithInterval, percent, placementDecision } from "./placements";

describe("placement results", () => {
  it("say the test's state in words, deciding only on a winner or a losing placement", () => {
    expect(placementDecision("winner")).toEqual({ label: "✔ Recommendations earn more than the hold-out", decided: true });
    expect(placementDecision("holdout_wins").decided).toBe(true);
    expect(placementDecision("insufficient_sample")).toEqual({ label: "● No decision yet", decided: false });
    expect(placementDecision("no_difference_yet").decided).toBe(false);
    expect(placementDecision("sample_ratio_mismatch").label).toMatch(/cannot be trusted/);
  });

  it("give caused revenue with its interval, negative bounds signed", () => {
    expect(moneyWithInterval(120, [-30, 270])).toBe("€120 (−€30 to €270)");
    expect(moneyWithInterval(-5, [])).toBe("−€5");
    expect(percent(0.0512)).toBe("5.1 %");
  });
});
