import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";

import { ApiError } from "../api/problem";

const calls = vi.hoisted(() => ({ get: vi.fn() }));

vi.mock("../api/client", () => ({
  api: { GET: calls.get },
  unwrap: async (call: Promise<{ data?: unknown; error?: { status: number; detail: string } }>) => {
    const answer = await call;
    if (answer.error) throw new ApiError(answer.error);
    return answer.data;
  },
}));

const weeks = ["2026-12-02", "2026-12-09"];

function answer(units: number[], price: number, driver?: object) {
  return {
    data: {
      model_version: "v1",
      forecast: {
        period_starts: weeks,
        units_p10: units.map((value) => value / 2),
        units_p50: units,
        units_p90: units.map((value) => value * 2),
        revenue_p10: units.map((value) => (value / 2) * price),
        revenue_p50: units.map((value) => value * price),
        revenue_p90: units.map((value) => value * 2 * price),
        drivers: { trend_per_week: 0, ...(driver ? { price: driver } : {}) },
      },
      actual: { measure: "units", period_starts: ["2026-11-25"], values: [9] },
    },
  };
}

const RANGE = "price must be between 70.00 and 130.00 (0.7-1.3 x the planned 100.00): further out the history says nothing";

describe("a product's forecast at another price", () => {
  beforeEach(() => {
    calls.get.mockImplementation((_path: string, options: { params: { query: { price?: number } } }) => {
      const price = options.params.query.price;
      if (price === undefined) return Promise.resolve(answer([10, 10], 100));
      if (price > 130) return Promise.resolve({ error: { status: 422, detail: RANGE } });
      return Promise.resolve(answer([12, 12], price, { planned: 100, asked: price, demand_multiplier: 1.2, extrapolated: false }));
    });
  });

  it("prefills the current price, asks the API at the price applied, and says what it answers", async () => {
    const { ProductForecast } = await import("./ProductForecast");
    render(<ProductForecast productId="149" />);
    const input = await screen.findByLabelText("What if this price? (EUR)");
    expect(input).toHaveValue("100.00");
    await userEvent.clear(input);
    await userEvent.type(input, "90");
    await userEvent.click(screen.getByRole("button", { name: "Apply" }));
    expect(
      await screen.findByText(
        "At €90.00 instead of €100.00: about 24 units over the next 2 weeks instead of 20 (×1.20), revenue €2,160 instead of €2,000.",
      ),
    ).toBeInTheDocument();
    expect(calls.get).toHaveBeenLastCalledWith("/forecasts/products/{product_id}", {
      params: { path: { product_id: "149" }, query: { history_weeks: 12, horizon_weeks: 8, price: 90 } },
    });
    expect(screen.getByRole("img", { name: /fan at €90\.00$/ })).toBeInTheDocument();
    expect(screen.getByRole("columnheader", { name: "forecast at €100.00 (P50)" })).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Current price" }));
    expect(await screen.findByText("The forecast below is at the current price, €100.00.")).toBeInTheDocument();
    expect(input).toHaveValue("100.00");
    expect(input).toHaveFocus();
  });

  it("shows the API's refusal of a price out of range next to the input, and a typing error before asking", async () => {
    const { ProductForecast } = await import("./ProductForecast");
    render(<ProductForecast productId="149" initialPrice={200} />);
    const input = await screen.findByLabelText("What if this price? (EUR)");
    expect(await screen.findByText(`⚠ P${RANGE.slice(1)}`)).toBeInTheDocument();
    expect(input).toHaveAttribute("aria-invalid", "true");
    expect(input).toHaveAccessibleDescription(expect.stringContaining(RANGE.slice(1)));
    expect(input).toHaveValue("200.00");
    expect(screen.getByRole("img", { name: /fan$/ })).toBeInTheDocument();
    const before = calls.get.mock.calls.length;
    await userEvent.clear(input);
    await userEvent.type(input, "abc");
    await userEvent.click(screen.getByRole("button", { name: "Apply" }));
    expect(screen.getByText(/must be a number/)).toBeInTheDocument();
    expect(calls.get.mock.calls.length).toBe(before);
  });
});
