/** "What if this product sold at another price": reading the forecast's price driver and saying what it means. */
import { formatMoney, formatNumber, total, type ForecastSeries } from "./forecast";

/** forecast.drivers.price of an answer asked with ?price=: the price planned (the catalogue's when the model was
 * trained), the one asked, and the horizon's demand at the asked price over the demand at the planned one. */
export interface PriceDriver {
  planned: number;
  asked: number;
  /** true when the asked price lies beyond the prices the product sold at: the answer carries on the elasticity
   * its markdowns show instead of reading the model where it has seen nothing. */
  extrapolated: boolean;
  demand_multiplier: number;
}

export function asPriceDriver(forecast: unknown): PriceDriver | null {
  const drivers = ((forecast ?? {}) as Record<string, unknown>).drivers;
  const price = ((drivers ?? {}) as Record<string, unknown>).price;
  if (!price || typeof price !== "object") return null;
  const { planned, asked, demand_multiplier, extrapolated } = price as Record<string, unknown>;
  if (typeof planned !== "number" || typeof asked !== "number" || typeof demand_multiplier !== "number") return null;
  return { planned, asked, demand_multiplier, extrapolated: extrapolated === true };
}

/** Each value of the API's forecast is rounded to 4 decimals. */
const ROUNDING = 0.00005;

/**
 * The product's current price as the plain forecast implies it (revenue is units x that price), or null when no
 * units are forecast. The quantile with the most units is read (a slow seller's P50 is often 0), and the result
 * is rounded no finer than the 4-decimal rounding of the answer supports: to the cent for most products, to
 * whole tens when a fraction of a unit is forecast (1,639.38 read from half a unit is 1,640).
 */
export function currentPrice(series: ForecastSeries): number | null {
  const quantiles: [number[], number[] | undefined][] = [
    [series.units_p90, series.revenue_p90],
    [series.units_p50, series.revenue_p50],
    [series.units_p10, series.revenue_p10],
  ];
  let best: { units: number; revenue: number; n: number } | null = null;
  for (const [units, revenue] of quantiles) {
    if (!revenue) continue;
    const sum = total(units);
    if (sum > 0 && (best === null || sum > best.units)) best = { units: sum, revenue: total(revenue), n: units.length };
  }
  if (best === null || best.revenue <= 0) return null;
  const estimate = best.revenue / best.units;
  const error = estimate * best.n * ROUNDING * (1 / best.units + 1 / best.revenue);
  let step = 0.01;
  while (step / 2 < error) step *= 10;
  return Math.round(Math.round(estimate / step) * step * 100) / 100;
}

export function formatPrice(value: number | null | undefined, currency = "EUR"): string {
  return formatMoney(value, currency, 2);
}

/** The price as an input shows it: "1090.00" (no thousands separator, so it parses back as typed). */
export function priceText(value: number | null): string {
  return value === null ? "" : value.toFixed(2);
}

/** A price as a merchant types it: "1199", "1199.50", "1,199.50", "1199,50", "€ 1 199". */
export function parsePrice(text: string): { price: number } | { error: string } {
  let clean = text.replace(/[\s€]/g, "");
  if (clean === "") return { error: "Enter a price to ask the forecast about." };
  if (clean.includes(".")) clean = clean.replace(/,/g, "");
  else if (/^\d{1,3}(,\d{3})+$/.test(clean)) clean = clean.replace(/,/g, "");
  else clean = clean.replace(",", ".");
  if (!/^\d+(\.\d+)?$/.test(clean)) return { error: "The price must be a number, such as 1199.50." };
  const price = Number(clean);
  if (!(price > 0)) return { error: "The price must be above 0." };
  return { price };
}

function unitsText(value: number): string {
  return formatNumber(value, value < 10 ? 1 : 0);
}

/** "At €1,199.00 instead of €1,090.00: about 72 units over the next 8 weeks instead of 85 (×0.85), revenue €86,328
 * instead of €92,650." P50 totals of the answer at the asked price and of the plain one. */
export function whatIfSentence(plain: ForecastSeries, asked: ForecastSeries, driver: PriceDriver, currency = "EUR"): string {
  const weeks = asked.period_starts.length;
  const unitsAsked = total(asked.units_p50);
  const unitsNow = total(plain.units_p50);
  const revenueAsked = total(asked.revenue_p50 ?? []);
  const revenueNow = total(plain.revenue_p50 ?? []);
  return (
    `At ${formatPrice(driver.asked, currency)} instead of ${formatPrice(driver.planned, currency)}: ` +
    `about ${unitsText(unitsAsked)} units over the next ${weeks === 1 ? "week" : `${weeks} weeks`} ` +
    `instead of ${unitsText(unitsNow)} (×${driver.demand_multiplier.toFixed(2)}), ` +
    `revenue ${formatMoney(revenueAsked, currency)} instead of ${formatMoney(revenueNow, currency)}.` +
    (driver.extrapolated
      ? " This product never sold at such a price: the estimate carries on the response its own price changes show."
      : "")
  );
}
