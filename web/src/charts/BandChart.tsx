import { AxisBottom, AxisLeft } from "@visx/axis";
import { Group } from "@visx/group";
import { scaleLinear, scalePoint } from "@visx/scale";
import { Area, LinePath } from "@visx/shape";
import { useId, useMemo, useState, type KeyboardEvent } from "react";

import { formatNumber, shortDate, type BandRow } from "../shaping/forecast";

interface Props {
  caption: string;
  rows: BandRow[];
  unit: string;
  width?: number;
  height?: number;
  digits?: number;
  /** What the rows' ``baseline`` is, e.g. "forecast at €1,090.00 (P50)": drawn as a dotted line when given. */
  baselineLabel?: string | undefined;
}

const MARGIN = { top: 12, right: 16, bottom: 36, left: 64 };

/**
 * Actual sales (solid line with dots) and the forecast (dashed median in a hatched P10-P90 band): told by line
 * style, markers and a legend in words, not by colour. The arrow keys walk the weeks (the value is read out);
 * the same numbers are in the table under the chart. A baseline (another forecast's median) is dotted, in grey.
 */
export function BandChart({ caption, rows, unit, width = 720, height = 260, digits = 0, baselineLabel }: Props) {
  const id = useId().replace(/:/g, "");
  const [focused, setFocused] = useState<number | null>(null);
  const innerWidth = width - MARGIN.left - MARGIN.right;
  const innerHeight = height - MARGIN.top - MARGIN.bottom;
  const x = useMemo(
    () => scalePoint<string>({ domain: rows.map((row) => row.week), range: [0, innerWidth], padding: 0.5 }),
    [rows, innerWidth],
  );
  const top = Math.max(1, ...rows.map((row) => Math.max(row.actual ?? 0, row.p90 ?? 0, row.baseline ?? 0)));
  const y = useMemo(() => scaleLinear<number>({ domain: [0, top * 1.1], range: [innerHeight, 0], nice: true }), [top, innerHeight]);
  const actual = rows.filter((row) => row.actual !== null);
  const forecast = rows.filter((row) => row.p50 !== null);
  const baseline = baselineLabel ? rows.filter((row) => row.baseline !== null && row.baseline !== undefined) : [];
  const tickEvery = Math.max(1, Math.ceil(rows.length / 8));
  const current = focused === null ? null : rows[focused];

  const onKey = (event: KeyboardEvent<SVGSVGElement>) => {
    if (!rows.length) return;
    const moves: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, Home: -rows.length, End: rows.length };
    const step = moves[event.key];
    if (step === undefined) return;
    event.preventDefault();
    setFocused((at) => Math.min(rows.length - 1, Math.max(0, (at ?? (step > 0 ? -1 : rows.length)) + step)));
  };

  const describe = (row: BandRow) =>
    row.actual !== null
      ? `Week of ${shortDate(row.week)}: sold ${formatNumber(row.actual, digits)} ${unit}`
      : `Week of ${shortDate(row.week)}: forecast ${formatNumber(row.p50, digits)} ${unit} (P10 ${formatNumber(row.p10, digits)} to P90 ${formatNumber(row.p90, digits)})` +
        (baseline.length && row.baseline !== null && row.baseline !== undefined
          ? `; ${baselineLabel} ${formatNumber(row.baseline, digits)}`
          : "");

  return (
    <figure className="chart">
      <figcaption id={`${id}-caption`}>{caption}</figcaption>
      <ul className="legend" aria-hidden="true">
        <li>
          <svg width="28" height="10">
            <line x1="0" x2="28" y1="5" y2="5" className="line-actual" />
            <circle cx="14" cy="5" r="3" className="dot-actual" />
          </svg>
          actual
        </li>
        <li>
          <svg width="28" height="10">
            <line x1="0" x2="28" y1="5" y2="5" className="line-forecast" />
          </svg>
          forecast (P50)
        </li>
        <li>
          <svg width="28" height="10">
            <rect width="28" height="10" className="band legend-band" />
          </svg>
          P10–P90 band
        </li>
        {baseline.length ? (
          <li>
            <svg width="28" height="10">
              <line x1="0" x2="28" y1="5" y2="5" className="line-baseline" />
            </svg>
            {baselineLabel}
          </li>
        ) : null}
      </ul>
      <svg
        width="100%"
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-labelledby={`${id}-caption`}
        aria-describedby={`${id}-readout`}
        tabIndex={0}
        onKeyDown={onKey}
        onBlur={() => setFocused(null)}
        className="chart-svg"
      >
        <defs>
          <pattern id={`${id}-hatch`} width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
            <rect width="6" height="6" className="band-fill" />
            <line x1="0" y1="0" x2="0" y2="6" className="band-hatch" />
          </pattern>
        </defs>
        <Group left={MARGIN.left} top={MARGIN.top}>
          <Area<BandRow>
            data={forecast}
            x={(row) => x(row.week) ?? 0}
            y0={(row) => y(row.p10 ?? 0)}
            y1={(row) => y(row.p90 ?? 0)}
            fill={`url(#${id}-hatch)`}
            className="band"
          />
          {baseline.length ? (
            <LinePath<BandRow> data={baseline} x={(row) => x(row.week) ?? 0} y={(row) => y(row.baseline ?? 0)} className="line-baseline" />
          ) : null}
          <LinePath<BandRow> data={forecast} x={(row) => x(row.week) ?? 0} y={(row) => y(row.p50 ?? 0)} className="line-forecast" />
          <LinePath<BandRow> data={actual} x={(row) => x(row.week) ?? 0} y={(row) => y(row.actual ?? 0)} className="line-actual" />
          {actual.map((row) => (
            <circle key={row.week} cx={x(row.week)} cy={y(row.actual ?? 0)} r={2.5} className="dot-actual" />
          ))}
          {current ? (
            <line x1={x(current.week)} x2={x(current.week)} y1={0} y2={innerHeight} className="cursor" />
          ) : null}
          <AxisLeft scale={y} numTicks={5} tickFormat={(value) => formatNumber(Number(value))} label={unit} labelOffset={44} />
          <AxisBottom
            top={innerHeight}
            scale={x}
            tickValues={rows.filter((_, index) => index % tickEvery === 0).map((row) => row.week)}
            tickFormat={(value) => shortDate(String(value))}
          />
        </Group>
      </svg>
      <p id={`${id}-readout`} className="readout" aria-live="polite">
        {current ? describe(current) : "Focus the chart and use the arrow keys to read each week."}
      </p>
      <details>
        <summary>The numbers of this chart</summary>
        <table>
          <caption className="visually-hidden">{caption}</caption>
          <thead>
            <tr>
              <th scope="col">Week of</th>
              <th scope="col">Actual</th>
              <th scope="col">P10</th>
              <th scope="col">P50</th>
              <th scope="col">P90</th>
              {baseline.length ? <th scope="col">{baselineLabel}</th> : null}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.week}>
                <th scope="row">{row.week}</th>
                <td>{formatNumber(row.actual, digits)}</td>
                <td>{formatNumber(row.p10, digits)}</td>
                <td>{formatNumber(row.p50, digits)}</td>
                <td>{formatNumber(row.p90, digits)}</td>
                {baseline.length ? <td>{formatNumber(row.baseline, digits)}</td> : null}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
