// The desk's only script: live parts over server-sent events. An element with data-live="<events URL>"
// subscribes; each `parts` event carries server-rendered (escaped) HTML by element id.
for (const el of document.querySelectorAll('[data-live]')) {
  const source = new EventSource(el.dataset.live);
  source.addEventListener('parts', (ev) => {
    const parts = JSON.parse(ev.data);
    for (const [id, html] of Object.entries(parts)) {
      const target = document.getElementById(id);
      if (target) target.innerHTML = html;
    }
    document.body.dataset.updated = String(Date.now());
  });
}
