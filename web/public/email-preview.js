// The e-mail preview frame: shows the HTML the dashboard posts to it (the API's rendering of a template), and
// tells the dashboard its height. Scripts the HTML may hold are not run (DOMParser marks them inert), and
// what could navigate the frame away (meta refresh, base, links) is taken out or stopped.
"use strict";

function reportHeight() {
  window.parent.postMessage({ previewHeight: document.documentElement.scrollHeight }, window.location.origin);
}

// The e-mail's height changes as it lays out (fonts, images): the dashboard sizes the frame to it.
const resized = new ResizeObserver(reportHeight);

function show(html) {
  const parsed = new DOMParser().parseFromString(html, "text/html");
  parsed.querySelectorAll("script, meta[http-equiv], base, link[rel]").forEach((element) => element.remove());
  resized.disconnect();
  document.replaceChild(document.adoptNode(parsed.documentElement), document.documentElement);
  resized.observe(document.documentElement);
  reportHeight();
}

window.addEventListener("message", (event) => {
  if (event.source !== window.parent || event.origin !== window.location.origin) return;
  if (event.data && typeof event.data.html === "string") show(event.data.html);
});
document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest("a, form, button")) event.preventDefault();
});
document.addEventListener("submit", (event) => event.preventDefault());
window.parent.postMessage({ previewReady: true }, window.location.origin);
