/** Actual weekly sales and a forecast band, lined up by week for one chart and its table. */
export interface ForecastSeries {
  period_starts: string[];
  units_p10: number[];
  units_p50: number[];
  units_p90: number[];
  revenue_p10?: number[];
  revenue_p50?: number[];
  revenue_p90?: number[];
}

export interface ActualSeries {
  period_starts: string[];
  values: number[];
}

export interface BandRow {
  week: string;
  actual: number | null;
  p10: number | null;
  p50: number | null;
  p90: number | null;
  /** The P50 of another forecast drawn beside this one (the forecast at the current price beside a what-if). */
  baseline?: number | null;
}

/** Reads the API's loosely typed forecast object (a dict in the OpenAPI document) into numbers, or throws. */
export function asForecastSeries(value: unknown): ForecastSeries {
  const record = (value ?? {}) as Record<string, unknown>;
  const numbers = (name: string): number[] => {
    const list = record[name];
    if (!Array.isArray(list) || list.some((item) => typeof item !== "number"))
      throw new Error(`the forecast has no numeric ${name}`);
    return list as number[];
  };
  const starts = record.period_starts;
  if (!Array.isArray(starts) || starts.some((item) => typeof item !== "string"))
    throw new Error("the forecast has no period_starts");
  const series: ForecastSeries = {
    period_starts: starts as string[],
    units_p10: numbers("units_p10"),
    units_p50: numbers("units_p50"),
    units_p90: numbers("units_p90"),
  };
  if (Array.isArray(record.revenue_p50)) {
    series.revenue_p10 = numbers("revenue_p10");
    series.revenue_p50 = numbers("revenue_p50");
    series.revenue_p90 = numbers("revenue_p90");
  }
  return series;
}

/** Actual weeks, then the forecast's; ``baseline``: another forecast over the same weeks, its P50 beside. */
export function bandRows(forecast: ForecastSeries, actual?: ActualSeries | null, baseline?: ForecastSeries): BandRow[] {
  const rows: BandRow[] = (actual?.period_starts ?? []).map((week, index) => ({
    week,
    actual: actual?.values[index] ?? null,
    p10: null,
    p50: null,
    p90: null,
    ...(baseline ? { baseline: null } : {}),
  }));
  forecast.period_starts.forEach((week, index) => {
    rows.push({
      week,
      actual: null,
      p10: forecast.units_p10[index] ?? null,
      p50: forecast.units_p50[index] ?? null,
      p90: forecast.units_p90[index] ?? null,
      ...(baseline ? { baseline: baseline.period_starts[index] === week ? (baseline.units_p50[index] ?? null) : null } : {}),
    });
  });
  return rows;
}

export function total(values: (number | null)[]): number {
  return values.reduce<number>((sum, value) => sum + (value ?? 0), 0);
}

export function formatNumber(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return value.toLocaleString("en-GB", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** Whole units of the currency by default; ``digits`` 2 for a price. */
export function formatMoney(value: number | null | undefined, currency = "EUR", digits = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return value.toLocaleString("en-GB", { style: "currency", currency, minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** "2026-03-02" -> "2 Mar" (the year when it is not this one's). */
export function shortDate(iso: string, today = new Date()): string {
  const date = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return iso;
  const options: Intl.DateTimeFormatOptions = { day: "numeric", month: "short", timeZone: "UTC" };
  if (date.getUTCFullYear() !== today.getUTCFullYear()) options.year = "numeric";
  return date.toLocaleDateString("en-GB", options);
}
