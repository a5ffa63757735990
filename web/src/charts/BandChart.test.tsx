import { fireEvent, render, screen, within } from "@testing-library/react";

import { BandChart } from "./BandChart";

const rows = [
  { week: "2026-03-04", actual: 9, p10: null, p50: null, p90: null },
  { week: "2026-03-11", actual: null, p10: 1, p50: 3, p90: 5 },
];

describe("BandChart", () => {
  it("has a caption naming the chart and a table with the same numbers", () => {
    render(<BandChart caption="Weekly units" rows={rows} unit="units" />);
    expect(screen.getByRole("img", { name: "Weekly units" })).toBeInTheDocument();
    const table = screen.getByRole("table", { name: "Weekly units" });
    const cells = within(table)
      .getAllByRole("row")
      .slice(1)
      .map((row) => within(row).getAllByRole("cell").map((cell) => cell.textContent));
    expect(cells).toEqual([
      ["9", "—", "—", "—"],
      ["—", "1", "3", "5"],
    ]);
  });

  it("reads each week out from the keyboard", () => {
    render(<BandChart caption="Weekly units" rows={rows} unit="units" />);
    const chart = screen.getByRole("img", { name: "Weekly units" });
    fireEvent.keyDown(chart, { key: "ArrowRight" });
    expect(screen.getByText(/sold 9 units/)).toBeInTheDocument();
    fireEvent.keyDown(chart, { key: "ArrowRight" });
    expect(screen.getByText(/forecast 3 units \(P10 1 to P90 5\)/)).toBeInTheDocument();
    fireEvent.keyDown(chart, { key: "Home" });
    expect(screen.getByText(/sold 9 units/)).toBeInTheDocument();
  });
});
