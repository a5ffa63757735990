/** Segments, their movement since the last run, and one customer's scores, from the API's loose objects. */
export interface SegmentSummary {
  segment: string;
  description: string;
  customers: number;
  customer_share: number;
  revenue: number;
  revenue_share: number;
  previous_customers: number;
  moved_in: number;
  moved_out: number;
  new_customers: number;
}

export function asSegment(value: Record<string, unknown>): SegmentSummary {
  const n = (name: string): number => (typeof value[name] === "number" ? (value[name] as number) : 0);
  return {
    segment: String(value.segment),
    description: String(value.description ?? ""),
    customers: n("customers"),
    customer_share: n("customer_share"),
    revenue: n("revenue"),
    revenue_share: n("revenue_share"),
    previous_customers: n("previous_customers"),
    moved_in: n("moved_in"),
    moved_out: n("moved_out"),
    new_customers: n("new_customers"),
  };
}

/** "+12 / −3" style net movement, with words for screen readers and colour-blind readers alike. */
export function movement(segment: SegmentSummary): { net: number; text: string } {
  const net = segment.moved_in + segment.new_customers - segment.moved_out;
  const sign = net > 0 ? "▲ +" : net < 0 ? "▼ −" : "● ";
  return {
    net,
    text: `${sign}${Math.abs(net)} (in ${segment.moved_in}, new ${segment.new_customers}, out ${segment.moved_out})`,
  };
}

export function percent(share: number, digits = 1): string {
  return `${(share * 100).toFixed(digits)} %`;
}

export function humanSegment(name: string): string {
  return name.replace(/_/g, " ").replace(/^./, (first) => first.toUpperCase());
}
