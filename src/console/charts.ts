/**
 * Server-rendered bar charts (no JavaScript). The labels and values are HTML text, so they wrap at any width
 * instead of being cut off at the edge of a drawing; only each bar is SVG, a rectangle whose width is its share
 * of the largest value (an attribute, as the CSP refuses style attributes). Every bar of a chart is drawn across
 * the same width, so their lengths compare.
 */
const esc = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

export function barChart(title: string, bars: { label: string; value: number; text?: string }[], o: { colour?: string } = {}): string {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const id = `chart-${title.toLowerCase().replace(/\W+/g, '-')}`;
  const rows = bars.map((b) => {
    const share = b.value > 0 ? Math.max(0.5, (b.value / max) * 100) : 0;
    return `<div class="toolkit-chart__row"><dt class="toolkit-chart__label">${esc(b.label)}</dt><dd class="toolkit-chart__value">`
      + '<svg class="toolkit-chart__bar" width="100%" height="20" aria-hidden="true" focusable="false">'
      + `<rect width="${share.toFixed(1)}%" height="20" fill="${o.colour ?? '#005eb8'}"></rect></svg>`
      + `${esc(b.text ?? String(b.value))}</dd></div>`;
  });
  return `<p class="nhsuk-u-visually-hidden" id="${id}">${esc(title)}</p>`
    + `<dl class="toolkit-chart" aria-labelledby="${id}">${rows.join('')}</dl>`;
}
