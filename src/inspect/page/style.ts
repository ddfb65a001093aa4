/** The inspector page's style sheet (see html.ts). */
export const STYLE_CSS = `
:root { --fg: #1d2330; --muted: #6b7280; --line: #d9dce3; --bg: #f6f7fa; --accent: #3b4a8c; --hot: #c25e00; --hot-bg: #ffd866; --bad: #b42318; --bad-bg: #fde8e7; --ok: #1a7f37; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
code, pre, .mono { font-family: ui-monospace, monospace; font-size: 12px; }
#top { display: flex; gap: 1em; align-items: baseline; padding: 0.5em 1em; background: #fff; border-bottom: 1px solid var(--line); }
#top h1 { font-size: 16px; margin: 0; }
.hint, .muted { color: var(--muted); }
.connection { padding: 0 0.5em; border-radius: 8px; background: #eee; }
.connection[data-state="open"] { background: #dff3e4; color: var(--ok); }
.connection[data-state="closed"] { background: var(--bad-bg); color: var(--bad); }
#layout { display: flex; align-items: flex-start; }
#sidebar { width: 300px; flex: none; padding: 0.5em; position: sticky; top: 0; max-height: 100vh; overflow: auto; }
#sidebar h2, main h2, main h3 { font-size: 14px; margin: 0.6em 0 0.3em; }
#sessions { list-style: none; margin: 0; padding: 0; }
#sessions li { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 0.35em 0.5em; margin-bottom: 0.35em; cursor: pointer; }
#sessions li.selected { border-color: var(--accent); box-shadow: 0 0 0 2px #c7cdee; }
#sessions li.closed { opacity: 0.6; }
#sessions .name { font-weight: 600; }
#sessions .version { margin-left: 0.5em; padding: 0 0.3em; border: 1px solid var(--muted); border-radius: 4px; color: var(--muted); font-family: ui-monospace, monospace; font-size: 10px; }
#sessions .state { display: block; color: var(--muted); font-family: ui-monospace, monospace; font-size: 11px; }
.role { display: inline-block; min-width: 3em; text-align: center; border-radius: 4px; font-size: 11px; font-weight: 700; margin-right: 0.4em; color: #fff; }
.role-CEM { background: #1f6f8b; }
.role-RM { background: #9a6b00; }
.badge-bad { color: var(--bad); font-weight: 700; }
main { flex: 1; min-width: 0; padding: 0.5em 1em 2em; }
#facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.1em 1em; margin: 0; }
#facts dt { color: var(--muted); }
#facts dd { margin: 0; }
.history { list-style: none; display: flex; flex-wrap: wrap; gap: 0.3em; padding: 0; margin: 0.5em 0; }
.history li { font-family: ui-monospace, monospace; font-size: 11px; background: #fff; border: 1px solid var(--line); border-radius: 4px; padding: 0 0.3em; }
.history li + li::before { content: "→ "; color: var(--muted); }
.history li:last-child { border-color: var(--hot); background: #fff7dd; }
.reports { margin: 0.3em 0; padding-left: 1.2em; color: var(--bad); }
.charts { display: grid; grid-template-columns: 1fr; gap: 0.8em; margin: 0.8em 0; }
.chart { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 0.4em; }
.chart[hidden] { display: none; }
.chart figcaption { font-weight: 600; margin-bottom: 0.3em; }
.chart-body { overflow: auto; max-height: 70vh; }
.chart-body { cursor: zoom-in; }
.chart-body svg { max-width: 100%; height: auto; }
.chart.zoomed .chart-body { cursor: zoom-out; }
.chart.zoomed .chart-body svg { max-width: none; }
.chart g.state-active > path, .chart g.state-active > polygon, .chart g.state-active > ellipse { fill: var(--hot-bg); stroke: var(--hot); stroke-width: 2.5px; }
.chart g.cluster.state-active > path, .chart g.cluster.state-active > polygon { fill: #fff7dd; stroke: var(--hot); stroke-width: 3px; }
table.grid { width: 100%; border-collapse: collapse; background: #fff; }
table.grid th, table.grid td { border-bottom: 1px solid var(--line); padding: 0.2em 0.4em; text-align: left; vertical-align: top; }
table.grid th { background: #eef0f5; font-weight: 600; position: sticky; top: 0; }
#log tr { cursor: pointer; }
#log tr.rs { color: var(--muted); }
#log tr.rs.paired { display: none; }
#log.show-rs tr.rs.paired { display: table-row; }
#log tr.bad { background: var(--bad-bg); }
#log tr.selected { outline: 2px solid var(--accent); }
#log td.dir { font-weight: 700; }
#log td.dir.sent { color: #1f6f8b; }
#log td.dir.received { color: #9a6b00; }
.status { font-family: ui-monospace, monospace; font-weight: 700; }
.status-OK { color: var(--ok); }
.status-bad { color: var(--bad); }
.status-pending { color: var(--muted); font-weight: 400; }
.problems { margin: 0; padding-left: 1.1em; color: var(--bad); }
#instructions tr { cursor: pointer; }
#instructions tr.selected { outline: 2px solid var(--accent); }
#instructions tr.final td.istatus { font-weight: 700; }
.body { white-space: pre-wrap; word-break: break-all; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 0.5em; max-height: 40vh; overflow: auto; }
.toggle { display: block; margin: 0.2em 0 0.4em; color: var(--muted); }
`;
