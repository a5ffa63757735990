import { metricBesideBaseline } from "./Models";
import { parseIds } from "./Recommendations";
import { usageShare } from "./Team";

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
  });
});
