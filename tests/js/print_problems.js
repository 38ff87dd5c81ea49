() => {
  const problems = [];
  const furniture = '.qe, .qe-skip, .qe-button, .md-header, .md-sidebar, .md-footer, .site-footer-links, ' +
                    '.md-search, .md-skip, .md-content__button, nav';
  for (const el of document.querySelectorAll(furniture)) {
    if (el.checkVisibility({visibilityProperty: true})) {
      problems.push(`prints ${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`);
    }
  }
  const h1 = document.querySelector('h1');
  if (!h1 || !h1.checkVisibility()) problems.push('the main heading does not print');
  return problems;
}
