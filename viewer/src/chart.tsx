// A figure drawn with uPlot (canvas; stays fast at 10^5 points). Every series is a facet of its own
// (uPlot's mode 2), so series with different x values and repeated x values (scatter, ECDF ties)
// need no alignment. A figure without provenance is not drawn.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Figure } from './api.js';

export const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#be185d', '#4d7c0f'];

/** Scatter points drawn straight onto uPlot's canvas (one arc per point, clipped to the plot area). */
function scatterPaths(color: string): uPlot.Series.PathBuilder {
  return (u, si) => {
    const facet = (u.data as unknown as [number[], number[]][])[si]!;
    const [xs, ys] = facet;
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    const r = 2.5 * devicePixelRatio;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    ctx.fillStyle = color;
    ctx.globalAlpha = 0.75;
    ctx.beginPath();
    for (let i = 0; i < xs.length; i++) {
      const cx = u.valToPos(xs[i]!, 'x', true);
      const cy = u.valToPos(ys[i]!, 'y', true);
      ctx.moveTo(cx + r, cy);
      ctx.arc(cx, cy, r, 0, 2 * Math.PI);
    }
    ctx.fill();
    ctx.restore();
    return null;
  };
}

/** Auto range with 5% padding, so points on the edge stay visible. */
function pad(_u: uPlot, min: number, max: number): uPlot.Range.MinMax {
  const d = max - min || Math.abs(max) || 1;
  return [min - d * 0.05, max + d * 0.05];
}

export function ProvenanceLine({ f }: { f: Figure }) {
  const p = f.provenance;
  return (
    <div class="prov">
      experiment {p.experiments.join(', ')} · graded by {p.graders.join(', ') || '–'} · harness {p.harnesses.join(', ') || '–'} · model {p.models.join(', ') || '–'} · prices{' '}
      {p.price_tables.join(', ') || '–'} · outlast {p.outlast.join(', ')} · {p.generated_at}
    </div>
  );
}

export function Chart({ figure: f, width = 560, height = 260 }: { figure: Figure; width?: number; height?: number }) {
  const el = useRef<HTMLDivElement>(null);
  const hasProv = !!f.provenance && Array.isArray(f.provenance.experiments);
  useEffect(() => {
    if (!el.current || !hasProv || f.points === 0) return;
    const stepped = uPlot.paths.stepped!({ align: 1 });
    const linear = uPlot.paths.linear!();
    const series: uPlot.Series[] = [{}];
    const data: uPlot.AlignedData = [null as unknown as number[]];
    f.series.forEach((s, i) => {
      const color = PALETTE[i % PALETTE.length]!;
      series.push({
        label: s.name,
        stroke: color,
        fill: undefined,
        width: f.kind === 'scatter' ? 0 : 1.5,
        paths: f.kind === 'scatter' ? scatterPaths(color) : f.kind === 'line' ? linear : stepped,
        points: { show: false },
      } as uPlot.Series);
      (data as unknown as unknown[]).push([s.points.map((p) => p[0]), s.points.map((p) => p[1])]);
    });
    const plot = new uPlot(
      {
        mode: 2,
        width,
        height,
        legend: { show: true, live: false },
        cursor: { drag: { x: true, y: true } },
        scales: { x: { time: false, range: pad }, y: { range: pad } },
        axes: [{ label: f.x.label }, { label: f.y.label }],
        series,
      } as uPlot.Options,
      data,
      el.current,
    );
    return () => plot.destroy();
  }, [f, width, height, hasProv]);
  if (!hasProv) {
    return (
      <figure class="chart withheld" data-figure={f.id}>
        <p>Figure “{f.title}” withheld: it has no provenance.</p>
      </figure>
    );
  }
  return (
    <figure class="chart" data-figure={f.id} data-points={String(f.points)} data-series={String(f.series.length)}>
      <figcaption>
        <b>{f.title}</b> <span class="muted">({f.points} points)</span>
        <ProvenanceLine f={f} />
      </figcaption>
      {f.points === 0 ? <p class="muted empty">no data yet</p> : <div ref={el} />}
    </figure>
  );
}
