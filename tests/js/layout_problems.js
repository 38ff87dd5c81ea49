() => {
  const problems = [];
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > width) {
    problems.push(`the page scrolls sideways: ${document.documentElement.scrollWidth}px wide on a ${width}px screen`);
  }
  const name = (el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} "${el.textContent.trim().replace(/\s+/g, ' ').slice(0, 40)}"`;
  const clips = (style) => ['hidden', 'clip'].includes(style.overflowX);
  // Every element that holds text itself and can be seen.
  for (const el of document.body.querySelectorAll('*')) {
    if (![...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim())) continue;
    if (!el.checkVisibility({visibilityProperty: true})) continue;
    if (el.closest('[aria-hidden=true]')) continue;  // hidden from everyone on purpose (the form's honeypot)
    const box = el.getBoundingClientRect();
    if (box.width <= 1 || box.height <= 1) continue;
    if (clips(getComputedStyle(el)) && el.scrollWidth > el.clientWidth + 1) {
      problems.push(`text cut off: ${name(el)} needs ${el.scrollWidth}px, has ${el.clientWidth}px`);
      continue;
    }
    let scrolls = false;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (['auto', 'scroll'].includes(style.overflowX)) { scrolls = true; break; }
      if (!clips(style)) continue;
      const edge = p.getBoundingClientRect();
      if (edge.width > 1 && (box.right > edge.right + 1 || box.left < edge.left - 1)) {
        problems.push(`text cut off: ${name(el)} runs past the edge of ${name(p).split(' ')[0]}`);
        break;
      }
    }
    if (!scrolls && (box.right > width + 1 || box.left < -1)) {
      problems.push(`text off the screen: ${name(el)} from ${Math.round(box.left)}px to ${Math.round(box.right)}px`);
    }
  }
  return problems;
}
