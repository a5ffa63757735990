import { asForecastSeries, bandRows, type ForecastSeries } from "./forecast";
import { asPriceDriver, currentPrice, formatPrice, parsePrice, priceText, whatIfSentence } from "./whatif";

/** A forecast as the API rounds it: units and revenue (units x price) to 4 decimals. */
function series(units: number[], price: number, spread = 0.5): ForecastSeries {
  const round = (value: number) => Math.round(value * 10_000) / 10_000;
  const p10 = units.map((value) => round(value * (1 - spread)));
  const p50 = units.map(round);
  const p90 = units.map((value) => round(value * (1 + spread)));
  return {
    period_starts: units.map((_, index) => `2026-12-${String(2 + 7 * index).padStart(2, "0")}`),
    units_p10: p10,
    units_p50: p50,
    units_p90: p90,
    revenue_p10: units.map((value) => round(value * (1 - spread) * price)),
    revenue_p50: units.map((value) => round(value * price)),
    revenue_p90: units.map((value) => round(value * (1 + spread) * price)),
  };
}

describe("price what-if shaping", () => {
  it("reads the current price from revenue over units, to the cent", () => {
    expect(currentPrice(series([10, 11, 12, 9], 1090))).toBe(1090);
    expect(currentPrice(series([3.3, 2.1, 4.7], 134.99))).toBe(134.99);
  });

  it("reads a slow seller's price from its P90 and rounds no finer than the answer's rounding allows", () => {
    // P50 rounds to 0 every week; half a unit over the P90s: 1,640 read as 1,639.38 without the coarser step.
    const slow = series(Array(8).fill(0.00004), 1640, 1600);
    expect(slow.units_p50.every((value) => value === 0)).toBe(true);
    expect(currentPrice(slow)).toBe(1640);
  });

  it("has no current price when no units are forecast", () => {
    expect(currentPrice(series([0, 0], 50))).toBeNull();
    expect(currentPrice({ ...series([1, 2], 50), revenue_p10: undefined, revenue_p50: undefined, revenue_p90: undefined })).toBeNull();
  });

  it("parses a price as a merchant types it, and says what is wrong otherwise", () => {
    expect(parsePrice("1199")).toEqual({ price: 1199 });
    expect(parsePrice(" €1,199.50 ")).toEqual({ price: 1199.5 });
    expect(parsePrice("1199,5")).toEqual({ price: 1199.5 });
    expect(parsePrice("1,199")).toEqual({ price: 1199 });
    expect(parsePrice("")).toEqual({ error: expect.stringMatching(/Enter a price/) });
    expect(parsePrice("12abc")).toEqual({ error: expect.stringMatching(/must be a number/) });
    expect(parsePrice("-5")).toEqual({ error: expect.stringMatching(/must be a number/) });
    expect(parsePrice("0")).toEqual({ error: expect.stringMatching(/above 0/) });
    expect(priceText(1090)).toBe("1090.00");
    expect(priceText(null)).toBe("");
    expect(formatPrice(1199.5)).toBe("€1,199.50");
  });

  it("reads the price driver of an answer asked at a price, and none from a plain one", () => {
    const drivers = { trend_per_week: 0.1, price: { planned: 1090, asked: 1199, demand_multiplier: 0.8473 } };
    expect(asPriceDriver({ drivers })).toEqual({ planned: 1090, asked: 1199, demand_multiplier: 0.8473, extrapolated: false });
    const beyond = { price: { planned: 1090, asked: 1199, demand_multiplier: 0.8473, extrapolated: true } };
    expect(asPriceDriver({ drivers: beyond })?.extrapolated).toBe(true);
    expect(asPriceDriver({ drivers: { trend_per_week: 0.1 } })).toBeNull();
    expect(asPriceDriver({ drivers: { price: { planned: "1090" } } })).toBeNull();
    expect(asPriceDriver(null)).toBeNull();
  });

  it("says the what-if in one sentence: price, units against the current price's, multiplier, revenue", () => {
    const plain = series([10, 11, 12, 9, 10, 11, 12, 10], 1090);
    const multiplier = 0.8473;
    const asked = series(plain.units_p50.map((value) => value * multiplier), 1199);
    const driver = { planned: 1090, asked: 1199, demand_multiplier: multiplier, extrapolated: false };
    expect(whatIfSentence(plain, asked, driver)).toBe(
      "At €1,199.00 instead of €1,090.00: about 72 units over the next 8 weeks instead of 85 (×0.85), " +
        "revenue €86,353 instead of €92,650.",
    );
    expect(whatIfSentence(plain, asked, { ...driver, extrapolated: true })).toMatch(
      /instead of €92,650\. This product never sold at such a price: the estimate carries on/,
    );
    const few = series([0.2, 0.3], 50);
    expect(whatIfSentence(few, series([0.3, 0.4], 40), { planned: 50, asked: 40, demand_multiplier: 1.4, extrapolated: false })).toBe(
      "At €40.00 instead of €50.00: about 0.7 units over the next 2 weeks instead of 0.5 (×1.40), revenue €28 instead of €25.",
    );
  });

  it("lines the current price's P50 up beside the what-if forecast, not beside the actual weeks", () => {
    const plain = asForecastSeries({ period_starts: ["2026-03-11"], units_p10: [1], units_p50: [3], units_p90: [5] });
    const asked = asForecastSeries({ period_starts: ["2026-03-11"], units_p10: [2], units_p50: [4], units_p90: [6] });
    expect(bandRows(asked, { period_starts: ["2026-03-04"], values: [9] }, plain)).toEqual([
      { week: "2026-03-04", actual: 9, p10: null, p50: null, p90: null, baseline: null },
      { week: "2026-03-11", actual: null, p10: 2, p50: 4, p90: 6, baseline: 3 },
    ]);
  });
});
