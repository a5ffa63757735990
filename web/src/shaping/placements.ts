/** Shaping of the storefront placements' results (GET /storefront/results) for the screen. */
import { formatMoney } from "./forecast";

export interface DecisionText {
  label: string;
  decided: boolean;
}

/** The sequential test's state in words, with a symbol so nothing is told by colour alone. */
export function placementDecision(decision: string): DecisionText {
  switch (decision) {
    case "winner":
      return { label: "✔ Recommendations earn more than the hold-out", decided: true };
    case "holdout_wins":
      return { label: "✖ The hold-out earns more: recommendations cost revenue here", decided: true };
    case "sample_ratio_mismatch":
      return { label: "⚠ The hold-out's share is off: the result cannot be trusted", decided: false };
    default: // insufficient_sample, no_difference_yet
      return { label: "● No decision yet", decided: false };
  }
}

/** "€120 (−€30 to €270)": a money amount with its interval. */
export function moneyWithInterval(value: number, interval: number[], currency = "EUR"): string {
  const signed = (amount: number) => (amount < 0 ? `−${formatMoney(-amount, currency)}` : formatMoney(amount, currency));
  const range = interval.length === 2 ? ` (${signed(interval[0] as number)} to ${signed(interval[1] as number)})` : "";
  return `${signed(value)}${range}`;
}

export function percent(rate: number): string {
  return `${(rate * 100).toFixed(1)} %`;
}
