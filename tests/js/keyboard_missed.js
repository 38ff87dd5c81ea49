() => {
  const k = window.__keyboard;
  return k.must.filter((el) => !k.reached.has(el)).map(k.name);
}
