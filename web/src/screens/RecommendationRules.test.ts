import { boostsText, parseBoosts, rulesSchema } from "./RecommendationRules";

describe("recommendation rules", () => {
  it("read boosts as id:amount however they are separated, and refuse anything else", () => {
    expect(parseBoosts("205:0.3, 17:-0.2\n9:1")).toEqual({ "205": 0.3, "17": -0.2, "9": 1 });
    expect(parseBoosts("")).toEqual({});
    expect(parseBoosts("205")).toBeNull();
    expect(parseBoosts("205:")).toBeNull();
    expect(parseBoosts("205:x")).toBeNull();
    expect(parseBoosts("a:b:c")).toBeNull();
    expect(boostsText({ p205: 0.3, p17: -0.2 })).toBe("p205:0.3, p17:-0.2");
  });

  it("check the API's limits before sending", () => {
    const ok = { pinned: "101, 205", boosts: "17:0.5", blocked: "9" };
    expect(rulesSchema.safeParse(ok).success).toBe(true);
    expect(rulesSchema.safeParse({ ...ok, boosts: "17:2" }).success).toBe(false);
    expect(rulesSchema.safeParse({ ...ok, pinned: "../etc" }).success).toBe(false);
    expect(rulesSchema.safeParse({ ...ok, pinned: Array.from({ length: 21 }, (_, n) => String(n)).join(",") }).success).toBe(false);
  });
});
