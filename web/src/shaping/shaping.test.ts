import { toCsv } from "./csv";
import { movement } from "./customers";
import { asForecastSeries, bandRows, total } from "./forecast";
import { asAdvice, leadTimeText } from "./inventory";
import { exportAdvice } from "../screens/Inventory";

const forecast = {
  period_starts: ["2026-03-11", "2026-03-18"],
  units_p10: [1, 2],
  units_p50: [3, 4],
  units_p90: [5, 7],
  method: "gbm",
};

describe("forecast shaping", () => {
  it("lines actual weeks up before the forecast weeks", () => {
    const rows = bandRows(asForecastSeries(forecast), { period_starts: ["2026-03-04"], values: [9] });
    expect(rows).toEqual([
      { week: "2026-03-04", actual: 9, p10: null, p50: null, p90: null },
      { week: "2026-03-11", actual: null, p10: 1, p50: 3, p90: 5 },
      { week: "2026-03-18", actual: null, p10: 2, p50: 4, p90: 7 },
    ]);
    expect(total(rows.map((row) => row.p50))).toBe(7);
  });

  it("refuses a forecast without its quantiles instead of drawing nonsense", () => {
    expect(() => asForecastSeries({ period_starts: ["2026-03-11"], units_p50: ["x"] })).toThrow(/units_p10|units_p50/);
  });
});

describe("CSV export", () => {
  it("quotes commas and quotes, and defuses spreadsheet formulas", () => {
    expect(toCsv(["a", "b"], [["x,y", '"q"'], ["=SUM(A1)", -3], [null, true]])).toBe(
      'a,b\r\n"x,y","""q"""\r\n\'=SUM(A1),-3\r\n,true\r\n',
    );
  });

  it("exports the reorder list with the numbers the screen shows", () => {
    const advice = asAdvice({
      product_id: "201",
      stock_quantity: 3,
      lead_time_days: 14,
      service_level: 0.95,
      days_of_cover: 2.5,
      stockout_date: "2026-03-13",
      lead_time_demand_p50: 20,
      order_up_to: 30,
      reorder_quantity: 27,
      reorder_now: true,
      explanation: "3 in stock, sells out in 2.5 days",
      lead_time_source: "product",
      supplier: "Atelier, Lyon",
    });
    expect(exportAdvice([advice]).split("\r\n")[1]).toBe(
      '201,3,2.5,2026-03-13,14,product,"Atelier, Lyon",27,"3 in stock, sells out in 2.5 days"',
    );
    expect(leadTimeText(advice)).toBe("14 d, own");
    expect(leadTimeText({ lead_time_days: 21, lead_time_source: "default" })).toBe("21 d, default");
  });
});

describe("segment movement", () => {
  it("says the net movement in words and arrows, not only colour", () => {
    const segment = {
      segment: "champions",
      description: "",
      customers: 10,
      customer_share: 0.1,
      revenue: 1,
      revenue_share: 0.5,
      previous_customers: 8,
      moved_in: 3,
      moved_out: 2,
      new_customers: 1,
    };
    expect(movement(segment)).toEqual({ net: 2, text: "▲ +2 (in 3, new 1, out 2)" });
    expect(movement({ ...segment, moved_in: 0, new_customers: 0 }).text).toBe("▼ −2 (in 0, new 0, out 2)");
  });
});
