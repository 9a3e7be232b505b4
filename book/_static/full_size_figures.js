// A chapter's figures on a phone. Each figure is drawn for a laptop's column, about twice as
// wide as a phone's, and on a phone its labels shrink with it to a few pixels. There, a figure
// drawn much wider than it is shown says so under it, and a tap opens it at the size it was
// drawn, in a box that scrolls both ways; a tap on the box, its button or Escape closes it.
(() => {
  const NARROW = window.matchMedia("(max-width: 36rem)");
  const FIGURES = ".bd-article div.cell_output img";
  const SHRUNK = 1.4; // drawn this many times wider than shown: worth opening
  let dialog = null;

  const shrunk = (img) => img.naturalWidth > SHRUNK * img.getBoundingClientRect().width;

  function viewer() {
    if (dialog) return dialog;
    dialog = document.createElement("dialog");
    dialog.className = "figure-full-size";
    dialog.setAttribute("aria-label", "Figure at full size");
    const close = document.createElement("button");
    close.type = "button";
    close.className = "figure-full-size-close";
    close.textContent = "Close";
    dialog.append(close, document.createElement("img"));
    dialog.addEventListener("click", () => dialog.close());
    document.body.append(dialog);
    return dialog;
  }

  function open(img) {
    const box = viewer();
    const copy = box.querySelector("img");
    copy.src = img.currentSrc || img.src;
    copy.alt = img.alt;
    box.showModal();
    box.scrollTo(0, 0);
  }

  // Under each shrunk figure, a line that says it opens (only a phone's layout shows it).
  function mark(img) {
    const hint = img.nextElementSibling;
    const marked = hint && hint.classList.contains("figure-tap-hint");
    if (!NARROW.matches || !img.naturalWidth || !shrunk(img)) {
      if (marked) hint.remove();
      return;
    }
    if (marked) return;
    const line = document.createElement("span");
    line.className = "figure-tap-hint";
    line.textContent = "Tap the figure to read it at full size.";
    img.after(line);
  }

  function markAll() {
    document.querySelectorAll(FIGURES).forEach((img) => {
      if (img.complete) mark(img);
      else img.addEventListener("load", () => mark(img), { once: true });
    });
  }

  document.addEventListener("click", (event) => {
    const img = event.target.closest(FIGURES);
    if (img && NARROW.matches && shrunk(img)) open(img);
  });
  document.addEventListener("DOMContentLoaded", markAll);
  NARROW.addEventListener("change", markAll);
})();
