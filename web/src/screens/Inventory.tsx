import { memo, useCallback, useEffect, useRef, useState } from "react";
import { useSearchParams } from "react-router-dom";
import { z } from "zod";

import { api, unwrap } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { download, toCsv } from "../shaping/csv";
import { formatNumber, shortDate } from "../shaping/forecast";
import { ENTITY_ID } from "../shaping/ids";
import { asAdvice, leadTimeText, type Advice } from "../shaping/inventory";
import { SubmitButton } from "../ui/actions";
import { Field, FormError, useApiForm } from "../ui/forms";
import { Async, Empty } from "../ui/States";
import { useToast } from "../ui/Toasts";
import { useApi } from "../ui/useApi";
import { ProductForecast } from "./ProductForecast";

export function exportAdvice(items: Advice[]): string {
  return toCsv(
    [
      "product_id",
      "stock",
      "days_of_cover",
      "stockout_date",
      "lead_time_days",
      "lead_time_source",
      "supplier",
      "reorder_quantity",
      "explanation",
    ],
    items.map((item) => [
      item.product_id,
      item.stock_quantity,
      item.days_of_cover,
      item.stockout_date,
      item.lead_time_days,
      item.lead_time_source,
      item.supplier,
      item.reorder_quantity,
      item.explanation,
    ]),
  );
}

/** The supply terms as the API takes them: an empty lead time or supplier clears it (the default applies). */
export const supplySchema = z.object({
  lead_time_days: z
    .string()
    .trim()
    .refine((text) => text === "" || (/^\d+$/.test(text) && Number(text) >= 1 && Number(text) <= 365), "a whole number of days from 1 to 365, or empty for the default"),
  supplier: z.string().trim().max(200, "at most 200 characters"),
});

export function supplyBody(values: z.infer<typeof supplySchema>): { lead_time_days: number | null; supplier: string | null } {
  return {
    lead_time_days: values.lead_time_days.trim() === "" ? null : Number(values.lead_time_days),
    supplier: values.supplier.trim() === "" ? null : values.supplier.trim(),
  };
}

/** A product's own lead time and supplier, saved through the API; the reorder list is advised again after. */
function SupplyEditor({ item, onSaved, onClose }: { item: Advice; onSaved: () => void; onClose: () => void }) {
  const notify = useToast();
  const { form, formError, submit } = useApiForm(
    supplySchema,
    {
      lead_time_days: item.lead_time_source === "product" ? String(item.lead_time_days) : "",
      supplier: item.supplier ?? "",
    },
    async (values) => {
      const saved = await unwrap(
        api.PUT("/inventory/products/{product_id}/supply", {
          params: { path: { product_id: item.product_id } },
          body: supplyBody(values),
        }),
      );
      notify(
        `Product #${item.product_id}: ${saved.lead_time_days ? `lead time ${saved.lead_time_days} days` : "the default lead time"}` +
          `${saved.supplier ? `, supplier ${saved.supplier}` : ""}. The advice is updated.`,
      );
      onSaved();
    },
  );
  const errors = form.formState.errors;
  const panel = useRef<HTMLElement>(null);
  useEffect(() => {
    // Opened from a row far above: bring the editor into view and put the cursor in it.
    panel.current?.scrollIntoView({ block: "nearest" });
    form.setFocus("lead_time_days");
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return (
    <section className="panel" aria-labelledby="supply-title" ref={panel}>
      <h2 id="supply-title">Supply of product #{item.product_id}</h2>
      <form onSubmit={submit} noValidate className="form">
        <Field
          label="Lead time of this product (days)"
          name="lead_time_days"
          inputMode="numeric"
          hint="From ordering to having the stock; empty: the default lead time above applies"
          registration={form.register("lead_time_days")}
          error={errors.lead_time_days?.message}
        />
        <Field label="Supplier" name="supplier" registration={form.register("supplier")} error={errors.supplier?.message} />
        <FormError message={formError} />
        <div className="toolbar">
          <SubmitButton submitting={form.formState.isSubmitting}>Save the supply terms</SubmitButton>
          <button type="button" className="secondary" onClick={onClose}>
            Close
          </button>
        </div>
      </form>
    </section>
  );
}

interface ReorderRowProps {
  item: Advice;
  writer: boolean;
  editing: boolean;
  selected: boolean;
  onEdit: (productId: string) => void;
  onSelect: (productId: string) => void;
}

/** One product of the reorder list. Memoised: opening one product's editor or chart re-renders two rows, not the
 * whole list (the interaction's next paint waited for all of them). */
const ReorderRow = memo(function ReorderRow({ item, writer, editing, selected, onEdit, onSelect }: ReorderRowProps) {
  return (
    <tr aria-selected={selected}>
      <th scope="row">#{item.product_id}</th>
      <td>{formatNumber(item.stock_quantity)}</td>
      <td>{item.days_of_cover === null ? "lasts" : formatNumber(item.days_of_cover, 1)}</td>
      <td>{item.stockout_date ? shortDate(item.stockout_date) : "—"}</td>
      <td>{leadTimeText(item)}</td>
      <td>{item.supplier ?? "—"}</td>
      <td data-testid="reorder-quantity">
        <strong>{formatNumber(item.reorder_quantity)}</strong>
      </td>
      <td className="explain">{item.explanation}</td>
      <td className="actions">
        {writer ? (
          <button
            type="button"
            className="secondary"
            aria-pressed={editing}
            onClick={() => onEdit(item.product_id)}
          >
            Supply<span className="visually-hidden"> of product {item.product_id}</span>
          </button>
        ) : null}{" "}
        <button
          type="button"
          className="secondary"
          aria-pressed={selected}
          onClick={() => onSelect(item.product_id)}
        >
          {selected ? "Hide" : "Forecast"}
          <span className="visually-hidden"> of product {item.product_id}</span>
        </button>
      </td>
    </tr>
  );
});

/** The fan chart of one product, kept as it is while the rest of the screen changes. */
const ProductFanChart = memo(ProductForecast);

/** ?product=<id> opens that product's forecast (any product, not only those to reorder); &price= asks it at that
 * price: the Prices screen links a suggestion here. */
function linkedForecast(params: URLSearchParams): { product: string | null; price: number | undefined } {
  const product = params.get("product");
  const price = Number(params.get("price") ?? "");
  return {
    product: product && ENTITY_ID.test(product) ? product : null,
    price: params.get("price") && Number.isFinite(price) && price > 0 ? price : undefined,
  };
}

export default function Inventory() {
  const writer = useAuth().can("staff");
  const [editing, setEditing] = useState<string | null>(null);
  const [leadTime, setLeadTime] = useState(14);
  const [serviceLevel, setServiceLevel] = useState(0.95);
  const [params] = useSearchParams();
  const [linked] = useState(() => linkedForecast(params));
  const [selected, setSelected] = useState<string | null>(linked.product);
  const forecastPanel = useRef<HTMLElement>(null);
  const scrolled = useRef(false);
  const toggleEditing = useCallback((productId: string) => setEditing((now) => (now === productId ? null : productId)), []);
  const toggleSelected = useCallback((productId: string) => setSelected((now) => (now === productId ? null : productId)), []);
  const advice = useApi(async () => {
    const answer = await unwrap(
      api.GET("/inventory/advice", { params: { query: { lead_time_days: leadTime, service_level: serviceLevel, limit: 200 } } }),
    );
    return { items: answer.items.map(asAdvice), checked: answer.products_checked };
  }, [leadTime, serviceLevel]);
  useEffect(() => {
    // Opened from a link: the forecast is under the reorder list, brought into view once the list is drawn.
    if (linked.product && advice.data && !scrolled.current) {
      scrolled.current = true;
      forecastPanel.current?.scrollIntoView({ block: "start" });
    }
  }, [linked.product, advice.data]);

  return (
    <>
      <h1>Inventory</h1>
      <form className="toolbar" onSubmit={(event) => event.preventDefault()} aria-label="Advice settings">
        <label>
          Default lead time (days){" "}
          <input
            type="number"
            min={1}
            max={182}
            value={leadTime}
            onChange={(event) => {
              const value = Number(event.target.value);
              if (Number.isInteger(value) && value >= 1 && value <= 182) setLeadTime(value);
            }}
          />
        </label>
        <label>
          Service level{" "}
          <select value={serviceLevel} onChange={(event) => setServiceLevel(Number(event.target.value))}>
            <option value={0.9}>90 %</option>
            <option value={0.95}>95 %</option>
            <option value={0.98}>98 %</option>
          </select>
        </label>
      </form>
      <Async state={advice} what="the reorder list">
        {({ items, checked }) =>
          items.length === 0 ? (
            <Empty>
              Nothing to reorder: all {checked} products with managed stock cover their lead time.
            </Empty>
          ) : (
            <section className="panel" aria-labelledby="reorder-title">
              <div className="section-head">
                <h2 id="reorder-title">
                  Reorder now: {items.length} of {checked} products, most urgent first
                </h2>
                <button type="button" className="secondary" onClick={() => download("reorder-list.csv", exportAdvice(items))}>
                  Export CSV
                </button>
              </div>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Product</th>
                    <th scope="col">In stock</th>
                    <th scope="col">Days of cover</th>
                    <th scope="col">Sells out</th>
                    <th scope="col">Lead time</th>
                    <th scope="col">Supplier</th>
                    <th scope="col">Reorder</th>
                    <th scope="col">Why</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((item) => (
                    <ReorderRow
                      key={item.product_id}
                      item={item}
                      writer={writer}
                      editing={editing === item.product_id}
                      selected={selected === item.product_id}
                      onEdit={toggleEditing}
                      onSelect={toggleSelected}
                    />
                  ))}
                </tbody>
              </table>
            </section>
          )
        }
      </Async>
      {editing && advice.data ? (
        (() => {
          const item = advice.data.items.find((candidate) => candidate.product_id === editing);
          return item ? (
            <SupplyEditor key={editing} item={item} onSaved={advice.reload} onClose={() => setEditing(null)} />
          ) : null;
        })()
      ) : null}
      {selected ? (
        <section className="panel" aria-labelledby="fan-title" ref={forecastPanel}>
          <h2 id="fan-title">Forecast of product #{selected}</h2>
          <ProductFanChart
            key={selected}
            productId={selected}
            initialPrice={selected === linked.product ? linked.price : undefined}
          />
        </section>
      ) : null}
    </>
  );
}
