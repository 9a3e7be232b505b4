// The pose explorer (book/pose_explorer.md): the CapsNet's decoder, run in the page.
//
// Reads explorer.json (layout of decoder.bin, the weights' SHA-256, the sample digits and
// their poses) and decoder.bin (int8 codes on a square-root scale, one float32 scale per
// output unit, float32 biases), both written by tools/export_decoder.py. Nothing is
// fetched from another host. window.poseExplorer exposes the state for the site test.
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
    const caption = element("p", { class: "pose-explorer-caption" });
    const sliders = [];
    const values = [];
    let current = 0;

    function render() {
      const digit = digits[current];
      api.pose = sliders.map((slider) => Number(slider.value));
      api.pixels = Float32Array.from(decode(layers, api.pose, digit.predicted));
      api.renders += 1;
      sliders.forEach((slider, k) => {
        const offset = Number(slider.value) - digit.pose[k];
        values[k].textContent = `${offset >= 0 ? "+" : "\u2212"}${Math.abs(offset).toFixed(2)}`;
      });
      draw(output, api.pixels);
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
      const button = element("button", { type: "button", title: `test image ${digit.test_index}` });
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
    root.replaceChildren(picker, caption, figures, grid, reset, facts);
    api.select = select;
    api.decode = (pose, cls) => Float32Array.from(decode(layers, pose, cls));
    select(0);
  }

  async function start() {
    // no-cache: a new export is seen at once; the binary's URL carries the weights' hash
    const meta = await (await fetch(here("explorer.json"), { cache: "no-cache" })).json();
    const url = here(`${meta.decoder.file}?v=${meta.weights.sha256.slice(0, 16)}`);
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${meta.decoder.file}: HTTP ${response.status}`);
    const buffer = await response.arrayBuffer();
    if (buffer.byteLength !== meta.decoder.bytes) {
      throw new Error(`${meta.decoder.file} has ${buffer.byteLength} bytes, not ${meta.decoder.bytes}`);
    }
    build(meta, loadLayers(meta, buffer));
  }

  api.ready = start().then(
    () => true,
    (error) => {
      // e.g. a page opened from disk (file://), where browsers refuse fetch()
      root.replaceChildren(
        element(
          "p",
          { class: "pose-explorer-error" },
          `The pose explorer could not load its decoder (${error.message}). ` +
            "Serve the site over HTTP, e.g. `python -m http.server -d _build/html`.",
        ),
      );
      return false;
    },
  );
})();
