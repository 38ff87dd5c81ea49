(restore) => {
    document.querySelector('.qe-button').click();
    if (restore) window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}));
    const overlay = document.querySelector('.qe-overlay');
    return {title: document.title,
            overlay: overlay ? overlay.textContent : null,
            overlayRole: overlay ? overlay.getAttribute('role') : null,
            headingShown: document.querySelector('h1').checkVisibility()};
}
