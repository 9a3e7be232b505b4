// What a screen reader announces, mended where the theme and docutils get it wrong (axe-core,
// run over every page by the site tests, reports each of these as serious or critical).
// The theme's own scripts (Bootstrap's tooltips, the colour-mode switch) may set titles and
// labels again after this file's first pass, in an order that depends on how busy the
// machine is: the mending runs once the page is parsed, once it is loaded, and whenever
// those attributes change again.
function mendAccessibleNames() {
  // A button or a folded cell's summary whose aria-label leaves out the text it shows
  // ("Search" on a button that reads "Search Ctrl+K"): a voice-control user saying what they
  // see would not reach it. Its visible text becomes its name.
  document.querySelectorAll("button[aria-label], summary[aria-label]").forEach((button) => {
    const shown = button.innerText.replace(/\s+/g, " ").trim();
    if (shown && !button.getAttribute("aria-label").toLowerCase().includes(shown.toLowerCase())) {
      button.removeAttribute("aria-label");
    }
  });
  // The colour-mode button shows only icons; their tooltips made them text outside its name.
  document.querySelectorAll(".theme-switch-button .theme-switch").forEach((icon) => {
    if (icon.hasAttribute("title")) icon.removeAttribute("title");
    if (icon.getAttribute("aria-hidden") !== "true") icon.setAttribute("aria-hidden", "true");
  });
  // The launch buttons show a logo beside their text: the logo's alt text made the name
  // "Colab logo Colab". Beside a text, the logo is decoration.
  document.querySelectorAll(".btn__icon-container img[alt]").forEach((logo) => {
    const link = logo.closest("a, button");
    if (logo.alt && link && link.textContent.trim()) logo.alt = "";
  });
  // docutils marks a bibliography role="list" and its entries doc-biblioentry, a role that
  // ARIA 1.2 deprecates: the list then seems to hold bare links. The entries are list items.
  document.querySelectorAll('.citation-list[role="list"] > .citation').forEach((entry) => {
    if (entry.getAttribute("role") !== "listitem") entry.setAttribute("role", "listitem");
  });
}

document.addEventListener("DOMContentLoaded", () => {
  mendAccessibleNames();
  new MutationObserver(mendAccessibleNames).observe(document.body, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ["title", "aria-label", "aria-hidden", "role"],
  });
});
window.addEventListener("load", mendAccessibleNames);

// The explorers in the chapters' frames (chapter 3's playground, chapter 8's pose explorer)
// say how tall they are; the frame takes that height, so it never scrolls inside the page.
// (A frame of the same site could be resized from inside, but not a page opened from disk,
// where every file is an origin of its own.)
window.addEventListener("message", (event) => {
  const height = event.data && event.data.capsnetsFrameHeight;
  if (!Number.isFinite(height) || height <= 0) return;
  document.querySelectorAll("iframe").forEach((frame) => {
    if (frame.contentWindow === event.source) frame.style.height = `${Math.ceil(height)}px`;
  });
});

// Opened from a folder on disk (file://), a page may not read the site's other files: the
// search page cannot quote the passages it found (Sphinx fetches each page for that). It
// lists the pages without quotes, and says so.
if (window.location.protocol === "file:" && typeof DOCUMENTATION_OPTIONS !== "undefined") {
  DOCUMENTATION_OPTIONS.SHOW_SEARCH_SUMMARY = false;
  document.addEventListener("DOMContentLoaded", () => {
    const results = document.getElementById("search-results");
    if (!results) return;
    const note = document.createElement("p");
    note.className = "search-from-disk";
    note.textContent =
      "This copy of the book was opened from a downloaded folder, so search lists the pages " +
      "that match without quoting the passages. The book's website " +
      "(https://capsnets-book.github.io/capsnets-book/) quotes them.";
    results.prepend(note);
  });
}
