import { metricBesideBaseline } from "./Models";
import { parseIds } from "./Recommendations";
import { limitName, usageShare } from "./Team";

describe("screen helpers", () => {
  it("reads a basket of ids however they are separated", () => {
    expect(parseIds(" 101, 205 ;301\n 7 ")).toEqual(["101", "205", "301", "7"]);
    expect(parseIds(" , ")).toEqual([]);
  });

  it("puts a run's metric beside its baseline", () => {
    expect(metricBesideBaseline({ wape: 0.41234, baseline_wape: 0.5, note: "x" })).toBe("wape 0.412 vs baseline_wape 0.5");
    expect(metricBesideBaseline({ ndcg: 0.3 })).toBe("ndcg 0.3");
    expect(metricBesideBaseline({})).toBeNull();
  });

  it("caps a usage share at the whole allowance", () => {
    expect(usageShare(50, 200)).toBe(0.25);
    expect(usageShare(300, 200)).toBe(1);
    expect(usageShare(3, 0)).toBe(0);
    expect(limitName("api_calls_per_month")).toBe("API calls");
    expect(limitName("exports_per_minute")).toBe("exports");
  });
});

describe("campaign results", () => {
  it("say the lift with its interval in points, and wait honestly without a winner", async () => {
    const { asDecision, liftText } = await import("./Campaigns");
    expect(liftText(0.012, [-0.004, 0.028])).toBe("+1.2 pts (−0.4 to +2.8)");
    expect(liftText(undefined, null)).toBe("—");
    expect(asDecision({ status: "continue", winner: null, reason: "needs 400 more recipients per arm" })).toEqual({
      status: "continue",
      winner: null,
      reason: "needs 400 more recipients per arm",
      comparisons: [],
    });
  });
});

describe("store health", () => {
  it("says each webhook topic's status in words and the store's UTC stamps in local time", async () => {
    const { topicStatus, utcStamp } = await import("./Connect");
    expect(topicStatus("disabled")).toBe("✖ disabled");
    expect(topicStatus("active")).toBe("✔ active");
    expect(topicStatus("odd")).toBe("odd");
    expect(utcStamp(null)).toBe("never");
    expect(utcStamp("2026-12-02T01:10:00")).toBe(new Date("2026-12-02T01:10:00Z").toLocaleString("en-GB"));
    expect(utcStamp("not a date")).toBe("not a date");
  });
});

describe("inventory supply terms", () => {
  it("take a lead time of 1 to 365 days or empty for the default, and a supplier of at most 200 characters", async () => {
    const { supplyBody, supplySchema } = await import("./Inventory");
    expect(supplyBody(supplySchema.parse({ lead_time_days: " 42 ", supplier: " Atelier " }))).toEqual({
      lead_time_days: 42,
      supplier: "Atelier",
    });
    expect(supplyBody(supplySchema.parse({ lead_time_days: "", supplier: "  " }))).toEqual({ lead_time_days: null, supplier: null });
    for (const lead of ["0", "366", "2.5", "ten"]) {
      expect(supplySchema.safeParse({ lead_time_days: lead, supplier: "" }).success).toBe(false);
    }
    expect(supplySchema.safeParse({ lead_time_days: "", supplier: "x".repeat(201) }).success).toBe(false);
  });
});

describe("flow templates", () => {
  it("keep only the parts changed from the default, and replace the flow's on/off in the whole settings", async () => {
    const { changedParts, settingsWith } = await import("./FlowTemplates");
    const defaults = { subject: "Welcome", html: "<p>Hi</p>", text: "Hi", sms: "Hi" };
    expect(changedParts({ subject: "Bienvenue", html: "<p>Hi</p>", text: "Hi", sms: "Hi" }, defaults)).toEqual({ subject: "Bienvenue" });
    const settings = { templates: { welcome: { subject: "Old" }, win_back: { sms: "x" } }, flows: {} } as never;
    const saved = settingsWith(settings, "welcome", { enabled: false, ...defaults }, defaults);
    expect(saved.templates).toEqual({ win_back: { sms: "x" } }); // back to the default: the override is dropped
    expect(saved.flows?.welcome?.enabled).toBe(false);
    const edited = settingsWith(settings, "welcome", { enabled: true, ...defaults, html: "<p>Bonjour</p>" }, defaults);
    expect(edited.templates?.welcome).toEqual({ html: "<p>Bonjour</p>" });
  });
});
