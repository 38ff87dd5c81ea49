/*
 * Videos kept by a provider (YouTube, Vimeo): nothing is asked of the provider
 * until the reader presses the button.
 *
 * The Videos page (made by sitebuild/videos/) shows our own still picture inside
 * a link to the video on the provider's site, so without this script the link
 * simply opens the provider's page. This script turns each such link into a
 * button which, when pressed, puts the provider's player in its place, loaded
 * from the address in data-embed-src (the provider's privacy-enhanced address).
 * The page's Content-Security-Policy allows frames from that address on this
 * page only (sitebuild/page_facts.py reads data-embed-src from the built page,
 * sitebuild/netlify.py writes the page's policy).
 */
(function () {
  "use strict";

  function play(button) {
    var frame = document.createElement("iframe");
    frame.className = "video-embed__frame";
    frame.src = button.getAttribute("data-embed-src");
    frame.title = button.getAttribute("data-embed-title");
    frame.referrerPolicy = button.getAttribute("data-embed-referrerpolicy") || "no-referrer";
    frame.setAttribute("allow", "encrypted-media; picture-in-picture; fullscreen");
    frame.setAttribute("allowfullscreen", "");
    button.replaceWith(frame);
    frame.focus();
  }

  function upgrade(link) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = link.className;
    ["data-embed-src", "data-embed-title", "data-embed-referrerpolicy", "aria-describedby"].forEach(function (name) {
      if (link.hasAttribute(name)) button.setAttribute(name, link.getAttribute(name));
    });
    while (link.firstChild) button.appendChild(link.firstChild);
    button.addEventListener("click", function () { play(button); });
    link.replaceWith(button);
  }

  Array.prototype.forEach.call(document.querySelectorAll("a[data-embed-src]"), upgrade);
})();
