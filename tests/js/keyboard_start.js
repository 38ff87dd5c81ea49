() => {
  const rendered = (el) => {
    const box = el.getBoundingClientRect();
    return el.checkVisibility({visibilityProperty: true}) && box.width > 0 && box.height > 0;
  };
  const name = (el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${[...el.classList].join('.')} "${(el.getAttribute('aria-label') || el.textContent || el.value || '').trim().replace(/\s+/g, ' ').slice(0, 40)}"`;
  const PROPS = ['outlineStyle', 'outlineWidth', 'outlineColor', 'boxShadow', 'backgroundColor',
                 'borderTopColor', 'borderBottomColor', 'borderBottomWidth'];
  // How focus can show: on the control, its ::before/::after, or its labels (GOV.UK
  // radios draw the ring on the label's ::before; our toggles on the header button).
  const parts = (el) => [el, ...(el.labels ? [...el.labels] : [])];
  const look = (el) => parts(el).map((p) => [null, '::before', '::after'].map((pseudo) => {
    const style = getComputedStyle(p, pseudo);
    return PROPS.map((k) => style[k]).join(' ');
  }).join(';')).join('|');
  const controls = [...document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex], [contenteditable]')]
    .filter((el) => !el.disabled && el.tabIndex >= 0 && !el.closest('[inert], [aria-hidden=true]') && rendered(el));
  const toggles = [...document.querySelectorAll('label[for]')].filter((label) => {
    const style = getComputedStyle(label);
    return label.control && label.control.type === 'checkbox' && rendered(label)
      && style.cursor === 'pointer' && style.pointerEvents !== 'none';
  });
  const must = [];
  const groups = new Set();
  for (const el of controls) {
    if (el.type === 'radio') {
      if (groups.has(el.name)) continue;
      groups.add(el.name);
    }
    must.push(el);
  }
  for (const label of toggles) {
    if (!must.includes(label.control)) must.push(label.control);
  }
  // What can scroll (the page, the sidebars, a wide table): a Tab that scrolls none of them sets off
  // no scroll handler, so keyboard_step need not wait for the page's next frames.
  const scrollers = [...document.querySelectorAll('*')].filter((el) => {
    const style = getComputedStyle(el);
    return /auto|scroll/.test(style.overflowX + style.overflowY);
  });
  const scrolled = () => [scrollX, scrollY, ...scrollers.map((el) => `${el.scrollLeft},${el.scrollTop}`)].join(' ');
  window.__keyboard = {must, name, look, rendered, scrolled, scroll: scrolled(),
                       before: new Map(controls.map((el) => [el, look(el)])), reached: new Set()};
  return must.length;
}
