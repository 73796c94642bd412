/**
 * The Chart.js code that runs unchanged in node (chartjs-node-canvas, for the PNGs) and in the browser
 * (inlined verbatim into report.html as a module script). It is plain JavaScript, typed by
 * chart-plugins.d.ts, because it is the one piece of the report that must exist as source text for the page:
 * chart configurations stay plain JSON data and name these plugins' options (`options.plugins.valueLabels`,
 * `options.plugins.whiskers`) instead of carrying functions.
 *
 * Nothing here may contain a closing script tag: html.ts inlines this file and refuses one.
 */

/** Line height of value labels, as a multiple of their font size. */
const LINE_HEIGHT = 1.2;
/** Gap in pixels between a bar's end and its label. */
const LABEL_GAP = 4;

/** Reads a bar element's final geometry (not an animation frame). */
function barGeometry(element) {
  return element.getProps(['x', 'y', 'base', 'horizontal', 'width', 'height'], true);
}

/**
 * Pales single bars under a translucent white veil: `bars[datasetIndex][dataIndex]` true marks an invalid
 * measurement. Colouring those bars lighter instead would also change the legend, which takes its swatch
 * from the first bar of a dataset.
 */
export const fadedBars = {
  id: 'fadedBars',
  defaults: { display: false, bars: [], veil: 'rgba(255, 255, 255, 0.6)' },
  descriptors: { _scriptable: false, _indexable: false },
  afterDatasetsDraw(chart, _args, options) {
    if (!options.display) return;
    const ctx = chart.ctx;
    ctx.save();
    ctx.fillStyle = options.veil;
    chart.data.datasets.forEach((_dataset, datasetIndex) => {
      const marks = options.bars[datasetIndex];
      if (!marks || !chart.isDatasetVisible(datasetIndex)) return;
      chart.getDatasetMeta(datasetIndex).data.forEach((element, index) => {
        if (marks[index] !== true) return;
        const bar = barGeometry(element);
        if (bar.horizontal) {
          ctx.fillRect(Math.min(bar.x, bar.base), bar.y - bar.height / 2, Math.abs(bar.x - bar.base), bar.height);
        } else {
          ctx.fillRect(bar.x - bar.width / 2, Math.min(bar.y, bar.base), bar.width, Math.abs(bar.base - bar.y));
        }
      });
    });
    ctx.restore();
  },
};

/**
 * Prints text lines at the end of bars: `labels[datasetIndex][dataIndex]` is an array of lines or null.
 * A label wider than its bar is first drawn smaller (down to `minFontSize`), then turned upright along the
 * bar, so neighbouring labels never overlap.
 */
export const valueLabels = {
  id: 'valueLabels',
  defaults: { display: false, labels: [], color: '#222222', fontSize: 12, minFontSize: 9 },
  descriptors: { _scriptable: false, _indexable: false },
  afterDatasetsDraw(chart, _args, options) {
    if (!options.display) return;
    const ctx = chart.ctx;
    const family = chart.options.font?.family ?? "'Helvetica Neue', 'Helvetica', 'Arial', sans-serif";
    ctx.save();
    ctx.fillStyle = options.color;
    chart.data.datasets.forEach((_dataset, datasetIndex) => {
      const rows = options.labels[datasetIndex];
      if (!rows || !chart.isDatasetVisible(datasetIndex)) return;
      chart.getDatasetMeta(datasetIndex).data.forEach((element, index) => {
        const lines = rows[index];
        if (!lines || lines.length === 0) return;
        drawLabel(ctx, barGeometry(element), lines, options, family, chart.width);
      });
    });
    ctx.restore();
  },
};

function drawLabel(ctx, bar, lines, options, family, chartWidth) {
  const widest = (size) => {
    ctx.font = `bold ${size}px ${family}`;
    return Math.max(...lines.map((line) => ctx.measureText(line).width));
  };
  if (bar.horizontal) {
    // One line after the bar if it fits before the chart's edge, smaller type if need be, else the lines stacked
    // on each other (a phone's narrow chart cut "72% TLS handshake" off).
    const room = chartWidth - bar.x - LABEL_GAP;
    const text = lines.join('  ');
    let size = options.fontSize;
    const width = (t, px) => {
      ctx.font = `bold ${px}px ${family}`;
      return ctx.measureText(t).width;
    };
    while (size > options.minFontSize && width(text, size) > room) size--;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    if (width(text, size) <= room || lines.length === 1) {
      ctx.fillText(text, bar.x + LABEL_GAP, bar.y);
      return;
    }
    size = options.fontSize;
    while (size > options.minFontSize && widest(size) > room) size--;
    ctx.font = `bold ${size}px ${family}`;
    const x = Math.min(bar.x + LABEL_GAP, chartWidth - widest(size));
    lines.forEach((line, i) => ctx.fillText(line, x, bar.y + (i - (lines.length - 1) / 2) * size * LINE_HEIGHT));
    return;
  }
  let size = options.fontSize;
  while (size > options.minFontSize && widest(size) > bar.width + LABEL_GAP) size--;
  if (widest(size) <= bar.width + LABEL_GAP) {
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    lines.forEach((line, i) => {
      ctx.fillText(line, bar.x, bar.y - LABEL_GAP - (lines.length - 1 - i) * size * LINE_HEIGHT);
    });
    return;
  }
  ctx.save();
  ctx.translate(bar.x, bar.y - LABEL_GAP);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  ctx.fillText(lines.join(' '), 0, 0);
  ctx.restore();
}

/**
 * Calls `draw(bar, valueScale, datasetIndex, dataIndex)` for every bar of every visible dataset; the value scale
 * is the y axis of vertical bars and the x axis of horizontal ones.
 */
function eachVisibleBar(chart, draw) {
  chart.data.datasets.forEach((_dataset, datasetIndex) => {
    if (!chart.isDatasetVisible(datasetIndex)) return;
    const meta = chart.getDatasetMeta(datasetIndex);
    const scale = chart.scales[meta.vAxisID];
    meta.data.forEach((element, index) => draw(barGeometry(element), scale, datasetIndex, index));
  });
}

/**
 * Whiskers on bars that show a median: a line from the bar's top to p99, a short cap at p90 and a long cap
 * at p99. `p90[datasetIndex][dataIndex]` and `p99[...]` are values on the bar's own axis, or null.
 */
export const whiskers = {
  id: 'whiskers',
  defaults: { display: false, p90: [], p99: [], color: '#222222', muted: [], mutedColor: '#A0A0A0' },
  descriptors: { _scriptable: false, _indexable: false },
  afterDatasetsDraw(chart, _args, options) {
    if (!options.display) return;
    const ctx = chart.ctx;
    ctx.save();
    ctx.strokeStyle = options.color;
    ctx.lineWidth = 1.5;
    eachVisibleBar(chart, (bar, scale, datasetIndex, index) => {
      const p90 = options.p90[datasetIndex]?.[index];
      const p99 = options.p99[datasetIndex]?.[index];
      if (p90 === null || p90 === undefined || p99 === null || p99 === undefined) return;
      // Grey where the call had too few requests for its p90 and p99 to mean much.
      ctx.strokeStyle = options.muted[datasetIndex]?.[index] === true ? options.mutedColor : options.color;
      const y90 = scale.getPixelForValue(p90);
      const y99 = scale.getPixelForValue(p99);
      ctx.beginPath();
      ctx.moveTo(bar.x, bar.y);
      ctx.lineTo(bar.x, y99);
      ctx.moveTo(bar.x - bar.width * 0.15, y90);
      ctx.lineTo(bar.x + bar.width * 0.15, y90);
      ctx.moveTo(bar.x - bar.width * 0.3, y99);
      ctx.lineTo(bar.x + bar.width * 0.3, y99);
      ctx.stroke();
    });
    ctx.restore();
  },
};

/**
 * Marks a predicted value on each bar: `values[datasetIndex][dataIndex]` (in the value axis's units, or null)
 * is drawn as a line across the bar, a little wider than it, with a white halo so it reads on any fill. The
 * round-trip model's time beside a measured median: a bar above its mark is time the model does not know.
 */
export const markers = {
  id: 'markers',
  defaults: { display: false, values: [], color: '#222222', lineWidth: 3 },
  descriptors: { _scriptable: false, _indexable: false },
  afterDatasetsDraw(chart, _args, options) {
    if (!options.display) return;
    const ctx = chart.ctx;
    ctx.save();
    eachVisibleBar(chart, (bar, scale, datasetIndex, index) => {
      const value = options.values[datasetIndex]?.[index];
      if (value === null || value === undefined) return;
      const at = scale.getPixelForValue(value);
      const half = (bar.horizontal ? bar.height : bar.width) / 2 + 3;
      const centre = bar.horizontal ? bar.y : bar.x;
      for (const [colour, width] of [['#FFFFFF', options.lineWidth + 2], [options.color, options.lineWidth]]) {
        ctx.strokeStyle = colour;
        ctx.lineWidth = width;
        ctx.beginPath();
        if (bar.horizontal) {
          ctx.moveTo(at, centre - half);
          ctx.lineTo(at, centre + half);
        } else {
          ctx.moveTo(centre - half, at);
          ctx.lineTo(centre + half, at);
        }
        ctx.stroke();
      }
    });
    ctx.restore();
  },
};

/**
 * The spread of repetitions (`--runs N`) over bars: each run's value as a dot across the bar's middle, and a
 * line from the least to the greatest. `values[datasetIndex][dataIndex]` lists one bar's runs, in the value
 * axis's units; fewer than two draws nothing.
 */
export const runPoints = {
  id: 'runPoints',
  defaults: { display: false, values: [], color: '#222222', radius: 3 },
  descriptors: { _scriptable: false, _indexable: false },
  afterDatasetsDraw(chart, _args, options) {
    if (!options.display) return;
    const ctx = chart.ctx;
    ctx.save();
    ctx.strokeStyle = options.color;
    ctx.fillStyle = options.color;
    ctx.lineWidth = 1.5;
    eachVisibleBar(chart, (bar, scale, datasetIndex, index) => {
      const runs = options.values[datasetIndex]?.[index];
      if (!Array.isArray(runs) || runs.length < 2) return;
      const ys = runs.map((v) => scale.getPixelForValue(v));
      ctx.beginPath();
      ctx.moveTo(bar.x, Math.min(...ys));
      ctx.lineTo(bar.x, Math.max(...ys));
      ctx.stroke();
      for (const y of ys) {
        ctx.beginPath();
        ctx.arc(bar.x, y, options.radius, 0, 2 * Math.PI);
        ctx.fill();
      }
    });
    ctx.restore();
  },
};

/** Every plugin the report's chart configurations may name. */
export const reportPlugins = [fadedBars, valueLabels, whiskers, markers, runPoints];

/** Below this width (CSS pixels) a chart is laid out for a phone: taller, smaller type, legend under the plot. */
const NARROW_PX = 640;

/** `71.48 kB per endpoint-minute`: a tooltip's value with its unit. */
function withUnit(value, units) {
  if (typeof value !== 'number') return String(value);
  const decimals = units.decimals ?? 2;
  return `${value.toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: decimals })} ${units.value}`;
}

/**
 * The page's version of a chart configuration (the PNG draws the configuration as built): the title and
 * subtitle are the figure's HTML text above the canvas, where they wrap, so the canvas keeps its height for the
 * plot; line legends show lines, not filled boxes (dashes read as blobs there); tooltips print units; a narrow
 * screen gets a taller chart with smaller type and the legend under the plot.
 */
export function pageConfig(spec, widthPx) {
  const config = structuredClone(spec.config);
  const options = (config.options ??= {});
  const plugins = (options.plugins ??= {});
  plugins.title = { ...plugins.title, display: false };
  plugins.subtitle = { ...plugins.subtitle, display: false };
  const legend = (plugins.legend ??= {});
  legend.labels ??= {};
  if (config.type === 'line') {
    legend.labels.usePointStyle = true;
    legend.labels.pointStyle = 'line';
  }
  const units = spec.units;
  if (units !== undefined) {
    const horizontal = options.indexAxis === 'y';
    plugins.tooltip = {
      ...plugins.tooltip,
      callbacks: {
        label(context) {
          const raw = context.raw;
          const value = raw !== null && typeof raw === 'object' ? (horizontal ? raw.x : raw.y) : raw;
          const at = raw !== null && typeof raw === 'object' && units.x !== undefined ? ` at ${withUnit(raw.x, { value: units.x })}` : '';
          return `${context.dataset.label ?? ''}: ${withUnit(value, units)}${at}`;
        },
      },
    };
  }
  if (widthPx < NARROW_PX) {
    const horizontal = options.indexAxis === 'y';
    // Horizontal bar charts grow with their bars already; the others get a portrait shape.
    if (!horizontal) options.aspectRatio = Math.min(options.aspectRatio ?? 2, 0.95);
    else {
      options.aspectRatio = Math.min(options.aspectRatio ?? 2, 0.75);
      // Room after the bars for their labels.
      if (options.scales?.x) options.scales.x.grace = '40%';
    }
    legend.position = 'bottom';
    legend.labels.font = { ...legend.labels.font, size: 10 };
    legend.labels.boxWidth = 10;
    options.layout = { padding: { top: 2, right: 6, bottom: 2, left: 2 } };
    for (const scale of Object.values(options.scales ?? {})) {
      scale.ticks = { ...scale.ticks, font: { ...scale.ticks?.font, size: 10 } };
      if (scale.title) scale.title = { ...scale.title, font: { ...scale.title.font, size: 11 } };
    }
    const labels = plugins.valueLabels;
    if (labels) {
      labels.fontSize = 10;
      labels.minFontSize = 8;
    }
  }
  return config;
}

/**
 * The page's entry point: draws each chart spec into `<canvas id="chart-<name>">`, laid out for the width
 * its figure has. A chart that fails is reported on the console and the others are still drawn. Returns how
 * many were drawn.
 */
export function drawReportCharts(Chart, specs, doc) {
  Chart.register(...reportPlugins);
  let drawn = 0;
  for (const spec of specs) {
    const canvas = doc.getElementById(`chart-${spec.name}`);
    if (canvas === null) {
      console.error(`report: no canvas for chart ${spec.name}`);
      continue;
    }
    try {
      const width = doc.body.clientWidth ?? 1000;
      new Chart(canvas, pageConfig(spec, width));
      drawn++;
    } catch (error) {
      console.error(`report: chart ${spec.name} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  doc.body.dataset.chartsDrawn = String(drawn);
  return drawn;
}
