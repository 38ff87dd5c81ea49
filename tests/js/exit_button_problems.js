() => {
  const problems = [];
  const button = document.querySelector('.qe-button');
  for (const where of ['top', 'end']) {
    window.scrollTo(0, where === 'top' ? 0 : document.documentElement.scrollHeight);
    const box = button.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    if (box.top < 0 || box.left < 0 || box.bottom > innerHeight || box.right > document.documentElement.clientWidth
        || !button.contains(hit)) {
      problems.push(`the exit button is not wholly on screen at the ${where} of the page`);
    }
  }
  window.scrollTo(0, 0);
  return problems;
}
