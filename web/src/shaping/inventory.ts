/** One product's reorder advice, read from the API's loosely typed object. */
export interface Advice {
  product_id: string;
  stock_quantity: number;
  lead_time_days: number;
  service_level: number;
  days_of_cover: number | null;
  stockout_date: string | null;
  lead_time_demand_p50: number;
  order_up_to: number;
  reorder_quantity: number;
  reorder_now: boolean;
  explanation: string;
  /** The product's own lead time, or the default asked for every product without one. */
  lead_time_source: "product" | "default";
  supplier: string | null;
}

export function asAdvice(value: Record<string, unknown>): Advice {
  const number = (name: string): number => {
    const found = value[name];
    if (typeof found !== "number") throw new Error(`advice without a numeric ${name}`);
    return found;
  };
  const nullableNumber = (name: string): number | null => (value[name] === null ? null : number(name));
  return {
    product_id: String(value.product_id),
    stock_quantity: number("stock_quantity"),
    lead_time_days: number("lead_time_days"),
    service_level: number("service_level"),
    days_of_cover: nullableNumber("days_of_cover"),
    stockout_date: typeof value.stockout_date === "string" ? value.stockout_date : null,
    lead_time_demand_p50: number("lead_time_demand_p50"),
    order_up_to: number("order_up_to"),
    reorder_quantity: number("reorder_quantity"),
    reorder_now: value.reorder_now === true,
    explanation: String(value.explanation ?? ""),
    lead_time_source: value.lead_time_source === "product" ? "product" : "default",
    supplier: typeof value.supplier === "string" ? value.supplier : null,
  };
}

/** "42 d, own" / "14 d, default": which lead time the advice counted, in words (not told by style alone). */
export function leadTimeText(advice: Pick<Advice, "lead_time_days" | "lead_time_source">): string {
  return `${advice.lead_time_days} d, ${advice.lead_time_source === "product" ? "own" : "default"}`;
}
