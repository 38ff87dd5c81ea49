async () => {
  const k = window.__keyboard;
  // If the Tab scrolled anything, let the page's own scroll handlers run first (Material sizes its
  // sidebars on scroll): the scroll event comes with the next frame, their work with the one after.
  // Focus styles and layout need no wait: getComputedStyle and elementFromPoint bring them up to date.
  if (k.scrolled() !== k.scroll) {
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    k.scroll = k.scrolled();
  }
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  if (el === k.first) return {again: true};  // round once: done
  k.first = k.first || el;
  k.reached.add(el);
  if (el.type === 'radio') for (const r of document.getElementsByName(el.name)) k.reached.add(r);
  const box = el.getBoundingClientRect();
  let shown = [el];
  if (box.width <= 1 || box.height <= 1) shown = [...(el.labels || [])].filter((l) => k.rendered(l) && l.getBoundingClientRect().width > 1);
  const labels = [...(el.labels || [])];
  let cover = 'nothing: it is off the screen';
  // Each box of it (a link that wraps has one per line).
  const seen = shown.flatMap((part) => [...part.getClientRects()]).some((r) => {
    for (const [fx, fy] of [[0.5, 0.5], [0.15, 0.5], [0.85, 0.5], [0.5, 0.15], [0.5, 0.85]]) {
      const x = r.left + r.width * fx, y = r.top + r.height * fy;
      if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) continue;
      const hit = document.elementFromPoint(x, y);
      if (hit && (el.contains(hit) || hit === el || labels.some((l) => l.contains(hit)))) return true;
      if (hit) cover = k.name(hit);
    }
    return false;
  });
  const before = k.before.get(el);
  return {name: k.name(el), exit: el.matches('.qe-skip'), changed: before === undefined ? null : before !== k.look(el),
          seen, cover, top: Math.round(el.getBoundingClientRect().top)};
}
