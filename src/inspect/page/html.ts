/**
 * The inspector page. It is inlined (with app.ts and style.ts) so that the plain `tsc` build ships
 * it inside dist/ with nothing to copy; the server sends it with a policy that allows scripts,
 * styles and connections from itself only.
 */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>s2 inspector</title>
<link rel="stylesheet" href="style.css">
<script src="app.js" defer></script>
</head>
<body>
<header id="top">
  <h1>s2 inspector</h1>
  <span id="connection" class="connection" data-state="connecting">connecting…</span>
  <span class="hint">live view of the S2 sessions of this process — nothing leaves this machine</span>
</header>
<div id="layout">
  <nav id="sidebar">
    <h2>Sessions <span id="session-count"></span></h2>
    <ul id="sessions"></ul>
    <p id="no-sessions" class="muted">No session yet.</p>
  </nav>
  <main id="detail" hidden>
    <section id="facts-section">
      <h2 id="title"></h2>
      <dl id="facts"></dl>
      <ol id="history" class="history" aria-label="state history"></ol>
      <ul id="reports" class="reports"></ul>
    </section>
    <section class="charts">
      <figure class="chart" id="chart-session">
        <figcaption><span class="chart-title">Session</span> <code class="chart-state"></code> <span class="muted">(click the chart for full size)</span></figcaption>
        <div class="chart-body"></div>
      </figure>
      <figure class="chart" id="chart-controlType">
        <figcaption><span class="chart-title">Control type</span> <code class="chart-state"></code> <span class="muted">(click the chart for full size)</span></figcaption>
        <div class="chart-body"></div>
      </figure>
      <figure class="chart" id="chart-instruction">
        <figcaption><span class="chart-title">Instruction</span> <code class="chart-state"></code> <span class="muted">(click the chart for full size)</span></figcaption>
        <div class="chart-body"></div>
      </figure>
    </section>
    <section>
      <h3>Instructions <span class="muted" id="instruction-count"></span></h3>
      <table id="instructions" class="grid">
        <thead><tr><th>id</th><th>type</th><th>status</th><th>actor state</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
    <section>
      <h3>Messages <span class="muted" id="message-count"></span></h3>
      <label class="toggle"><input type="checkbox" id="show-rs"> show ReceptionStatus frames that answer a logged message</label>
      <table id="log" class="grid">
        <thead><tr><th>#</th><th>time</th><th></th><th>message</th><th>ReceptionStatus</th><th>problems</th></tr></thead>
        <tbody></tbody>
      </table>
      <pre id="body" class="body" hidden></pre>
    </section>
  </main>
</div>
</body>
</html>
`;
