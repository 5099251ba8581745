/** Server-rendered SVG charts (no JavaScript): horizontal bars with their values written beside them. */
const esc = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

export function barChart(title: string, bars: { label: string; value: number; text?: string }[], o: { width?: number; colour?: string } = {}): string {
  const width = o.width ?? 640;
  const labelWidth = 200;
  const row = 28;
  const height = bars.length * row + 10;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const scale = (width - labelWidth - 80) / max;
  const rows = bars.map((b, i) => {
    const y = 5 + i * row;
    const w = Math.max(b.value > 0 ? 2 : 0, b.value * scale);
    return `<text x="${labelWidth - 8}" y="${y + 18}" text-anchor="end" font-size="14">${esc(b.label)}</text>`
      + `<rect x="${labelWidth}" y="${y + 4}" width="${w.toFixed(1)}" height="${row - 8}" fill="${o.colour ?? '#005eb8'}"></rect>`
      + `<text x="${(labelWidth + w + 6).toFixed(1)}" y="${y + 18}" font-size="14">${esc(b.text ?? String(b.value))}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="t-${esc(title).replace(/\W/g, '')}" width="100%" viewBox="0 0 ${width} ${height}" font-family="Frutiger W01, Arial, sans-serif"><title id="t-${esc(title).replace(/\W/g, '')}">${esc(title)}: ${bars.map((b) => `${esc(b.label)} ${esc(b.text ?? String(b.value))}`).join(', ')}</title>${rows.join('')}</svg>`;
}
