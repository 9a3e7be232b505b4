// The pose explorer (book/pose_explorer.md): the CapsNet's decoder, run in the page.
//
// Reads explorer.json (layout of decoder.bin, the weights' SHA-256, the sample digits and
// their poses) and decoder.bin (int8 codes on a square-root scale, one float32 scale per
// output unit, float32 biases), both written by tools/export_decoder.py. Nothing is
// fetched from another host. Opened from a folder on disk (file://), where browsers refuse
// fetch(), the same two files come from explorer_data.js, a script the book's build writes
// next to them (book/_ext/explorer_data.py). window.poseExplorer exposes the state for the
// site test.
(() => {
  "use strict";

  const script = document.currentScript;
  const root = document.getElementById("pose-explorer-app");
  if (!root || !script) return;
  const here = (name) => new URL(name, script.src).href;
  const SCALE = 8; // screen pixels per image pixel
  const SIDE = 28;
  const DIM = 16;

  const api = { pixels: null, pose: null, digit: null, renders: 0 };
  window.poseExplorer = api;

  function element(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    node.append(...children);
    return node;
  }

  // --- the decoder -------------------------------------------------------------------------

  function loadLayers(meta, buffer) {
    const levels = meta.decoder.levels;
    const table = new Float64Array(256); // code + 128 -> sign(q) (q / levels)^2
    for (let q = -128; q < 128; q++) table[q + 128] = Math.sign(q) * (q / levels) ** 2;
    return meta.decoder.layers.map((layer) => {
      const { inputs, units } = layer;
      const codes = new Int8Array(buffer, layer.codes, inputs * units);
      const scales = new Float32Array(buffer, layer.scales, units);
      const bias = new Float32Array(buffer, layer.bias, units);
      const weights = new Float32Array(inputs * units); // (inputs, units), row-major
      for (let i = 0; i < inputs; i++) {
        for (let j = 0; j < units; j++) {
          weights[i * units + j] = table[codes[i * units + j] + 128] * scales[j];
        }
      }
      return { inputs, units, weights, bias, activation: layer.activation };
    });
  }

  function dense(x, layer) {
    const { inputs, units, weights, bias } = layer;
    const y = new Float64Array(units);
    for (let i = 0; i < inputs; i++) {
      const xi = x[i];
      if (xi === 0) continue; // nine of ten capsule slots, and every ReLU at zero
      const row = i * units;
      for (let j = 0; j < units; j++) y[j] += xi * weights[row + j];
    }
    for (let j = 0; j < units; j++) {
      const z = y[j] + bias[j];
      y[j] = layer.activation === "relu" ? Math.max(z, 0) : 1 / (1 + Math.exp(-z));
    }
    return y;
  }

  function decode(layers, pose, cls) {
    let x = new Float64Array(layers[0].inputs); // the masked poses, flattened (classes * 16)
    x.set(pose, cls * DIM);
    for (const layer of layers) x = dense(x, layer);
    return x; // 784 pixels in [0, 1]
  }

  // --- drawing -----------------------------------------------------------------------------

  function draw(canvas, pixels) {
    const context = canvas.getContext("2d");
    const side = canvas.width;
    const scale = side / SIDE;
    const image = context.createImageData(side, side);
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const value = pixels[Math.floor(y / scale) * SIDE + Math.floor(x / scale)];
        const grey = Math.round(255 * (1 - value)); // ink dark on white, like the book's plots
        const k = 4 * (y * side + x);
        image.data[k] = image.data[k + 1] = image.data[k + 2] = grey;
        image.data[k + 3] = 255;
      }
    }
    context.putImageData(image, 0, 0);
  }

  function bigCanvas(label) {
    const side = SIDE * SCALE;
    return element("canvas", { width: side, height: side, "aria-label": label, role: "img" });
  }

  const signed = (x) => `${x >= 0 ? "+" : "\u2212"}${Math.abs(x).toFixed(2)}`;

  // the decoded picture in words: which digit, which dimensions moved, how much ink where
  function describe(pixels, digit, offsets) {
    const moved = offsets
      .map((offset, k) => [k, offset])
      .filter(([, offset]) => Math.abs(offset) >= 0.005)
      .map(([k, offset]) => `${k} by ${signed(offset)}`);
    let ink = 0;
    let top = SIDE;
    let bottom = -1;
    let left = SIDE;
    let right = -1;
    pixels.forEach((value, k) => {
      if (value < 0.5) return;
      ink += 1;
      const y = Math.floor(k / SIDE);
      const x = k % SIDE;
      top = Math.min(top, y);
      bottom = Math.max(bottom, y);
      left = Math.min(left, x);
      right = Math.max(right, x);
    });
    const pose = moved.length
      ? `with pose dimension${moved.length > 1 ? "s" : ""} ${moved.join(", ")} moved`
      : "at the digit's own pose";
    const shape = ink
      ? `${ink} of 784 pixels inked, in a box ${right - left + 1} pixels wide and ` +
        `${bottom - top + 1} high`
      : "no pixel inked";
    return `The decoder's picture of a ${digit.predicted}, ${pose}: ${shape}.`;
  }

  // --- the widget --------------------------------------------------------------------------

  function build(meta, layers) {
    const digits = meta.digits.map((digit) => ({
      ...digit,
      pixels: Float64Array.from(atob(digit.image), (c) => c.charCodeAt(0) / 255),
    }));
    const range = meta.pose_range;
    const original = bigCanvas("the test digit");
    const output = bigCanvas("the decoder's reconstruction");
    output.id = "pose-explorer-output";
    const description = element("p", {
      id: "pose-explorer-description",
      class: "pose-explorer-description",
    });
    output.setAttribute("aria-describedby", description.id);
    const caption = element("p", { class: "pose-explorer-caption" });
    const sliders = [];
    const values = [];
    let current = 0;

    function render() {
      const digit = digits[current];
      api.pose = sliders.map((slider) => Number(slider.value));
      api.pixels = Float32Array.from(decode(layers, api.pose, digit.predicted));
      api.renders += 1;
      const offsets = sliders.map((slider, k) => Number(slider.value) - digit.pose[k]);
      offsets.forEach((offset, k) => {
        values[k].textContent = signed(offset);
        sliders[k].setAttribute("aria-valuetext", `${signed(offset)} from the digit's own`);
      });
      draw(output, api.pixels);
      description.textContent = describe(api.pixels, digit, offsets);
    }

    function select(index) {
      current = index;
      api.digit = index;
      const digit = digits[index];
      sliders.forEach((slider, k) => {
        slider.min = (digit.pose[k] - range).toFixed(4);
        slider.max = (digit.pose[k] + range).toFixed(4);
        slider.value = digit.pose[k];
      });
      picker.querySelectorAll("button").forEach((button, i) => {
        button.setAttribute("aria-pressed", i === index ? "true" : "false");
      });
      caption.textContent =
        `Test image ${digit.test_index}: label ${digit.label}, predicted ${digit.predicted} ` +
        `(capsule length ${digit.length.toFixed(2)}); the decoder sees the 16 numbers of ` +
        `digit capsule ${digit.predicted}, the other 144 inputs zero.`;
      draw(original, digit.pixels);
      render();
    }

    const picker = element("div", { class: "pose-explorer-picker", role: "group" });
    picker.setAttribute("aria-label", "test digits");
    digits.forEach((digit, i) => {
      const thumb = element("canvas", { width: SIDE, height: SIDE });
      draw(thumb, digit.pixels);
      const button = element("button", {
        type: "button",
        "aria-label": `a ${digit.label}, test image ${digit.test_index}`,
      });
      button.append(thumb);
      button.addEventListener("click", () => select(i));
      picker.append(button);
    });

    const grid = element("div", { class: "pose-explorer-sliders" });
    for (let k = 0; k < DIM; k++) {
      const slider = element("input", { type: "range", step: "0.01", id: `pose-dim-${k}` });
      slider.setAttribute("aria-label", `pose dimension ${k}`);
      slider.addEventListener("input", render);
      const value = element("output", { for: slider.id });
      sliders.push(slider);
      values.push(value);
      grid.append(element("label", { for: slider.id }, `${k}`), slider, value);
    }

    const reset = element("button", { type: "button", class: "pose-explorer-reset" }, "Reset");
    reset.addEventListener("click", () => select(current));

    const figures = element(
      "div",
      { class: "pose-explorer-images" },
      element("figure", {}, original, element("figcaption", {}, "the test digit")),
      element("figure", {}, output, element("figcaption", {}, "the decoder's output")),
    );
    const error = meta.max_pixel_error;
    const facts = element(
      "p",
      { class: "pose-explorer-facts" },
      `Weights ${meta.weights.file} (SHA-256 ${meta.weights.sha256.slice(0, 12)}\u2026); ` +
        `decoder ${(meta.decoder.bytes / 1e6).toFixed(2)} MB in 8 bits, largest pixel ` +
        `difference from the float32 decoder ${error.value} over ${error.images} images.`,
    );
    facts.id = "pose-explorer-facts";
    root.replaceChildren(picker, caption, figures, description, grid, reset, facts);
    api.select = select;
    api.decode = (pose, cls) => Float32Array.from(decode(layers, pose, cls));
    select(0);
    fitFrame();
  }

  // inside a frame (chapter 8): the frame as tall as the explorer. A frame of the same site
  // is resized from here; a page opened from disk is another origin to its frame, so the
  // height also goes to the chapter's page, whose accessibility.js sets it.
  function fitFrame() {
    if (window.parent === window || !window.ResizeObserver) return;
    const fit = () => {
      const height = Math.ceil(document.documentElement.getBoundingClientRect().height) + 4;
      try {
        if (window.frameElement) window.frameElement.style.height = `${height}px`;
      } catch (error) {
        // another origin: the message below does it
      }
      window.parent.postMessage({ capsnetsFrameHeight: height }, "*");
    };
    new ResizeObserver(fit).observe(document.body);
  }

  // explorer_data.js: window.POSE_EXPLORER_DATA = {meta, decoder: base64 of decoder.bin}
  function fromScript() {
    return new Promise((resolve, reject) => {
      const tag = element("script", { src: here("explorer_data.js") });
      tag.onload = () => {
        const data = window.POSE_EXPLORER_DATA;
        if (!data) {
          reject(new Error("explorer_data.js holds no data"));
          return;
        }
        const bytes = Uint8Array.from(atob(data.decoder), (c) => c.charCodeAt(0));
        resolve([data.meta, bytes.buffer]);
      };
      tag.onerror = () => reject(new Error("explorer_data.js is missing"));
      document.head.append(tag);
    });
  }

  async function fromServer() {
    // no-cache: a new export is seen at once; the binary's URL carries the weights' hash
    const meta = await (await fetch(here("explorer.json"), { cache: "no-cache" })).json();
    const url = here(`${meta.decoder.file}?v=${meta.weights.sha256.slice(0, 16)}`);
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${meta.decoder.file}: HTTP ${response.status}`);
    return [meta, await response.arrayBuffer()];
  }

  async function start() {
    const fromDisk = window.location.protocol === "file:";
    const [meta, buffer] = await (fromDisk ? fromScript() : fromServer());
    if (buffer.byteLength !== meta.decoder.bytes) {
      throw new Error(`${meta.decoder.file} has ${buffer.byteLength} bytes, not ${meta.decoder.bytes}`);
    }
    build(meta, loadLayers(meta, buffer));
  }

  api.ready = start().then(
    () => true,
    (error) => {
      root.replaceChildren(
        element(
          "p",
          { class: "pose-explorer-error" },
          `The pose explorer could not load its decoder (${error.message}). ` +
            "Reload the page; if that does not help, open the explorer on the book's " +
            "website, https://capsnets-book.github.io/capsnets-book/book/pose_explorer.html.",
        ),
      );
      return false;
    },
  );
})();
