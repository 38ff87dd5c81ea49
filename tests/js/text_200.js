() => {
  const root = document.documentElement;
  root.style.fontSize = (parseFloat(getComputedStyle(root).fontSize) * 2) + 'px';
}
