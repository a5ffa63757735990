import { useEffect, useId, useRef, useState, type FormEvent } from "react";

import { api, unwrap } from "../api/client";
import { fieldErrors, type ApiError } from "../api/problem";
import { BandChart } from "../charts/BandChart";
import { asForecastSeries, bandRows, type ActualSeries, type ForecastSeries } from "../shaping/forecast";
import { asPriceDriver, currentPrice, formatPrice, parsePrice, priceText, whatIfSentence, type PriceDriver } from "../shaping/whatif";
import { Async } from "../ui/States";
import { useApi } from "../ui/useApi";

const HISTORY_WEEKS = 12;
const HORIZON_WEEKS = 8;

interface Answer {
  series: ForecastSeries;
  actual: ActualSeries | null;
  driver: PriceDriver | null;
}

async function loadForecast(productId: string, price?: number): Promise<Answer> {
  const answer = await unwrap(
    api.GET("/forecasts/products/{product_id}", {
      params: {
        path: { product_id: productId },
        query: { history_weeks: HISTORY_WEEKS, horizon_weeks: HORIZON_WEEKS, ...(price === undefined ? {} : { price }) },
      },
    }),
  );
  return { series: asForecastSeries(answer.forecast), actual: answer.actual ?? null, driver: asPriceDriver(answer.forecast) };
}

/** The API's word on a price it refused: the allowed range of a 422, the field's message of a validation error. */
function refusal(error: ApiError): string {
  const message = fieldErrors(error.problem).price ?? error.problem.detail ?? error.message;
  return message.charAt(0).toUpperCase() + message.slice(1);
}

/**
 * A product's weekly sales and forecast fan, and "what if it sold at this price": the forecast asked again with
 * ?price=, drawn as the fan with the forecast at the current price dotted beside it, and said in one sentence.
 * ``initialPrice`` asks at that price straight away (the Prices screen links here with its suggested price).
 */
export function ProductForecast({ productId, initialPrice }: { productId: string; initialPrice?: number | undefined }) {
  const id = useId().replace(/:/g, "");
  const plain = useApi(() => loadForecast(productId), [productId]);
  const [asked, setAsked] = useState<number | null>(initialPrice ?? null);
  const whatIf = useApi<Answer | null>(
    () => (asked === null ? Promise.resolve(null) : loadForecast(productId, asked)),
    [productId, asked],
  );
  const [draft, setDraft] = useState<string | null>(initialPrice === undefined ? null : priceText(initialPrice));
  const [inputError, setInputError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  // The planned price is only said by an answer asked at a price; until then it is read from revenue / units.
  const [planned, setPlanned] = useState<number | null>(null);
  const answered = whatIf.data?.driver;
  useEffect(() => {
    if (answered) setPlanned(answered.planned);
  }, [answered]);

  return (
    <Async state={plain} what="the product's forecast">
      {(base) => {
        const current = planned ?? currentPrice(base.series);
        // While another price is asked, the last answer stays drawn: the chart does not flip back and forth.
        const shown = asked !== null && !whatIf.error && whatIf.data?.driver ? whatIf.data : null;
        const error = inputError ?? (asked !== null && whatIf.error ? refusal(whatIf.error) : null);
        const submit = (event: FormEvent) => {
          event.preventDefault();
          const parsed = parsePrice(draft ?? priceText(current));
          if ("error" in parsed) {
            setInputError(parsed.error);
            return;
          }
          setInputError(null);
          if (parsed.price === asked) whatIf.reload();
          else setAsked(parsed.price);
        };
        const reset = () => {
          setAsked(null);
          setDraft(null);
          setInputError(null);
          // The button pressed goes away with the what-if: the cursor goes back to the price.
          input.current?.focus();
        };
        const asking = asked !== null && whatIf.loading;
        let said: string;
        if (error) said = "";
        // The last answer's sentence stays until the next one (it names its own price): no line comes and goes.
        else if (shown?.driver) said = whatIfSentence(base.series, shown.series, shown.driver);
        else if (asking) said = `Asking the forecast at ${formatPrice(asked)}…`;
        else if (asked !== null && whatIf.data && !whatIf.data.driver) said = "The forecast did not say how demand answers to the price.";
        else said = `The forecast below is at the current price${current === null ? "" : `, ${formatPrice(current)}`}.`;
        return (
          <>
            <form className="whatif" onSubmit={submit} noValidate aria-label={`What if product #${productId} sold at another price`}>
              <label htmlFor={`${id}-price`}>What if this price? (EUR)</label>
              <div className="whatif-row">
                <input
                  id={`${id}-price`}
                  ref={input}
                  inputMode="decimal"
                  autoComplete="off"
                  value={draft ?? priceText(current)}
                  onChange={(event) => setDraft(event.target.value)}
                  aria-invalid={error ? true : undefined}
                  aria-describedby={`${id}-hint ${id}-said`}
                />
                <button type="submit">Apply</button>
                {asked !== null ? (
                  <button type="button" className="secondary" onClick={reset}>
                    Current price
                  </button>
                ) : null}
              </div>
              <small id={`${id}-hint`} className="muted">
                Units and revenue over the next {HORIZON_WEEKS} weeks at this price instead of the current one
              </small>
            </form>
            <div id={`${id}-said`} className="whatif-said" aria-live="polite" aria-busy={asking}>
              {error ? <p className="field-error">⚠ {error}</p> : <p>{said}</p>}
            </div>
            <div aria-busy={asking}>
              <BandChart
                caption={
                  shown?.driver
                    ? `Product #${productId}: units sold per week and the forecast's P10–P90 fan at ${formatPrice(shown.driver.asked)}`
                    : `Product #${productId}: units sold per week and the forecast's P10–P90 fan`
                }
                rows={shown ? bandRows(shown.series, base.actual, base.series) : bandRows(base.series, base.actual)}
                unit="units"
                digits={1}
                baselineLabel={shown?.driver ? `forecast at ${formatPrice(shown.driver.planned)} (P50)` : undefined}
              />
            </div>
          </>
        );
      }}
    </Async>
  );
}
