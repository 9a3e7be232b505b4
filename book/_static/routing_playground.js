// The routing playground (book/routing_playground.md, chapter 3): routing by agreement on
// 2-D predictions that the reader drags with the mouse or moves with the arrow keys.
//
// window.routing.route(uHat, rounds, wrongAxis) is the arithmetic, a pure function: the
// library's capsnet_lib.routing_by_agreement (Procedure 1 of the paper) in plain JavaScript,
// compared with it by tests/test_routing_playground.py. window.routingPlayground exposes the
// widget's state for the same test. Nothing is fetched: the script draws everything itself.
(() => {
  "use strict";

  // --- the arithmetic ----------------------------------------------------------------------

  const EPSILON = 1e-7; // capsnet_lib.ops.squash's default

  // eq. 1: v = |s|^2 / (1 + |s|^2) * s / |s|, with the library's epsilon under the root
  function squash(s) {
    const squared = s.reduce((sum, x) => sum + x * x, 0);
    const scale = squared / (1 + squared) / Math.sqrt(squared + EPSILON);
    return s.map((x) => scale * x);
  }

  function dot(a, b) {
    return a.reduce((sum, x, k) => sum + x * b[k], 0);
  }

  // softmax of b (children x parents) over the parents (right) or over the children (wrong)
  function softmax(b, overChildren) {
    const n = b.length;
    const m = b[0].length;
    const c = b.map((row) => row.slice());
    if (!overChildren) {
      for (let i = 0; i < n; i++) {
        const top = Math.max(...b[i]);
        const e = b[i].map((x) => Math.exp(x - top));
        const total = e.reduce((a, x) => a + x, 0);
        for (let j = 0; j < m; j++) c[i][j] = e[j] / total;
      }
    } else {
      for (let j = 0; j < m; j++) {
        const column = b.map((row) => row[j]);
        const top = Math.max(...column);
        const e = column.map((x) => Math.exp(x - top));
        const total = e.reduce((a, x) => a + x, 0);
        for (let i = 0; i < n; i++) c[i][j] = e[i] / total;
      }
    }
    return c;
  }

  /**
   * Routing by agreement, round by round.
   *
   * uHat: predictions [child][parent][component]; rounds: 1 or more; wrongAxis: the classic
   * bug, c = softmax(b) over the children (axis 1 of the library's (batch, children,
   * parents) logits) instead of over the parents (axis 2).
   *
   * Returns {rounds: [{b, c, s, v, agreement}], c, v}: for each round the logits it starts
   * from, its coupling coefficients c[i][j], each parent's input s[j] (eq. 2) and output
   * v[j] (eq. 1), and the agreement uHat[i][j] . v[j] that is added to b for the next round
   * (null in the last round, which the library does not update). c and v: the last round's,
   * what capsnet_lib.routing_by_agreement(u_hat, iterations=rounds) returns.
   */
  function route(uHat, rounds, wrongAxis = false) {
    if (!(rounds >= 1)) throw new Error(`routing needs at least one round, got ${rounds}`);
    const n = uHat.length;
    const m = uHat[0].length;
    const dim = uHat[0][0].length;
    let b = uHat.map((row) => row.map(() => 0)); // logits, zero before the first round
    const history = [];
    for (let r = 0; r < rounds; r++) {
      const c = softmax(b, wrongAxis); // eq. 3 (round 1: an even split, 1/m or 1/n)
      const s = [];
      for (let j = 0; j < m; j++) {
        const sj = new Array(dim).fill(0);
        for (let i = 0; i < n; i++) {
          for (let k = 0; k < dim; k++) sj[k] += c[i][j] * uHat[i][j][k];
        }
        s.push(sj); // eq. 2: s_j = sum_i c_ij uHat_j|i
      }
      const v = s.map(squash);
      let agreement = null;
      const logits = b;
      if (r < rounds - 1) {
        agreement = uHat.map((row) => row.map((u, j) => dot(u, v[j])));
        b = b.map((row, i) => row.map((x, j) => x + agreement[i][j]));
      }
      history.push({ b: logits, c, s, v, agreement });
    }
    const last = history[history.length - 1];
    return { rounds: history, c: last.c, v: last.v };
  }

  window.routing = { route, squash, softmax };

  // --- the widget --------------------------------------------------------------------------

  const root = document.getElementById("routing-playground-app");
  if (!root) return;

  const SVG = "http://www.w3.org/2000/svg";
  const SIZE = 440; // the plane's side in SVG units
  const EXTENT = 1.6; // the plane shows -EXTENT..EXTENT on both axes
  const STEP = 0.05; // an arrow key's move (Shift: 0.01)
  const MAX_CHILDREN = 10;
  const MIN_CHILDREN = 2;
  const COLOURS = ["#0060a0", "#b34700", "#007a57"]; // Okabe-Ito blue, vermilion, green, darkened
  const SHAPES = ["circle", "square", "diamond"];
  const NAMES = ["blue, circles", "vermilion, squares", "green, diamonds"];
  // Chapter 3's toy: children 0-3 agree on parent 0, children 4 and 5 on parent 1.
  const TOY_ANGLES = [[20, 200], [30, 290], [40, 20], [25, 340], [150, 95], [170, 105]];
  const TOY_LENGTHS = [[1, 0.5], [1, 0.5], [1, 0.5], [1, 0.5], [1, 1], [1, 1]];
  const THIRD_PARENT_ANGLES = [250, 120, 300, 60, 230, 10]; // a third parent: no cluster

  const polar = (length, degrees) => {
    const a = (degrees * Math.PI) / 180;
    return [length * Math.cos(a), length * Math.sin(a)];
  };
  const round3 = (x) => Math.round(x * 1000) / 1000;
  const fmt = (x, digits = 2) => {
    const text = x.toFixed(digits);
    return Number(text) === 0 ? (0).toFixed(digits) : text.replace("-", "\u2212");
  };
  const vec = (p) => `(${fmt(p[0])}, ${fmt(p[1])})`;
  const clamp = (x) => Math.max(-EXTENT, Math.min(EXTENT, x));

  function toyPredictions(parents) {
    return TOY_ANGLES.map((angles, i) => {
      const row = angles.map((a, j) => polar(TOY_LENGTHS[i][j], a));
      if (parents === 3) row.push(polar(0.8, THIRD_PARENT_ANGLES[i]));
      return row.map((p) => p.map(round3));
    });
  }

  function newChild(index, parents) {
    // a deterministic spread: each new child points somewhere else
    const row = [];
    for (let j = 0; j < parents; j++) row.push(polar(0.9, (index * 67 + j * 137 + 45) % 360).map(round3));
    return row;
  }

  function element(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    node.append(...children);
    return node;
  }

  function svgElement(tag, attributes = {}) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    return node;
  }

  const toScreen = (p) => [
    SIZE / 2 + (p[0] / EXTENT) * (SIZE / 2),
    SIZE / 2 - (p[1] / EXTENT) * (SIZE / 2),
  ];

  const state = {
    uHat: toyPredictions(2),
    rounds: 3,
    shown: 3, // the round the picture shows
    wrongAxis: false,
    selected: 0, // the child the Remove button removes
    focus: null, // [i, j] of the point with focus or under the pointer
    result: null, // route(uHat, rounds, wrongAxis)
    right: null, // route(uHat, rounds, false): drawn faintly when the wrong axis is on
    renders: 0,
  };
  const api = { state, ready: true };
  window.routingPlayground = api;

  // controls
  const uid = (name) => `rp-${name}`;
  const roundsSelect = element("select", { id: uid("rounds") });
  for (let r = 1; r <= 5; r++) roundsSelect.append(element("option", { value: r }, `${r}`));
  roundsSelect.value = String(state.rounds);
  const shownSlider = element("input", { type: "range", id: uid("shown"), min: 1, max: 3, step: 1 });
  const shownOutput = element("output", { for: uid("shown"), id: uid("shown-value") });
  const parentsSelect = element("select", { id: uid("parents") });
  for (const m of [2, 3]) parentsSelect.append(element("option", { value: m }, `${m}`));
  const wrongBox = element("input", { type: "checkbox", id: uid("wrong-axis") });
  const addButton = element("button", { type: "button", id: uid("add") }, "Add a child");
  const removeButton = element("button", { type: "button", id: uid("remove") }, "Remove child");
  const resetButton = element("button", { type: "button", id: uid("reset") }, "Reset");

  const controls = element(
    "div",
    { class: "rp-controls" },
    element("label", { for: uid("rounds") }, "Rounds of routing "),
    roundsSelect,
    element("label", { for: uid("shown") }, "Picture shows round "),
    shownSlider,
    shownOutput,
    element("label", { for: uid("parents") }, "Parents "),
    parentsSelect,
  );
  const controls2 = element(
    "div",
    { class: "rp-controls" },
    element(
      "label",
      { for: uid("wrong-axis"), class: "rp-wrong-label" },
      wrongBox,
      " The bug: softmax over the children (the wrong axis)",
    ),
    addButton,
    removeButton,
    resetButton,
  );

  // the plane
  const instructions = element(
    "p",
    { id: uid("instructions"), class: "rp-instructions" },
    "Each point is one child's prediction for one parent. Drag a point, or press Tab to reach " +
      "it and move it with the arrow keys (Shift for small steps). A line's width is the " +
      "coupling coefficient of the round shown; the thick arrows are the parents' outputs, the " +
      "dashed ones their inputs s, the dotted circle has radius 1.",
  );
  const svg = svgElement("svg", {
    viewBox: `0 0 ${SIZE} ${SIZE}`,
    class: "rp-plane",
    id: uid("plane"),
    role: "group",
    "aria-label": "The plane of predictions",
    "aria-describedby": uid("instructions"),
  });
  const defs = svgElement("defs");
  COLOURS.forEach((colour, j) => {
    const marker = svgElement("marker", {
      id: uid(`arrow-${j}`),
      viewBox: "0 0 10 10",
      refX: 9,
      refY: 5,
      markerWidth: 5,
      markerHeight: 5,
      orient: "auto-start-reverse",
    });
    marker.append(svgElement("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: colour }));
    defs.append(marker);
  });
  svg.append(defs);
  const backdrop = svgElement("g", { "aria-hidden": "true" });
  const [ox, oy] = toScreen([0, 0]);
  const [ux] = toScreen([1, 0]);
  backdrop.append(
    svgElement("line", { x1: 0, y1: oy, x2: SIZE, y2: oy, class: "rp-axis" }),
    svgElement("line", { x1: ox, y1: 0, x2: ox, y2: SIZE, class: "rp-axis" }),
    svgElement("circle", { cx: ox, cy: oy, r: ux - ox, class: "rp-unit" }),
  );
  const linesLayer = svgElement("g", { "aria-hidden": "true" });
  const outputsLayer = svgElement("g", { "aria-hidden": "true" });
  const pointsLayer = svgElement("g");
  svg.append(backdrop, linesLayer, outputsLayer, pointsLayer);

  const legend = element("ul", { class: "rp-legend", id: uid("legend") });
  const focusInfo = element("p", { class: "rp-focus-info", id: uid("focus-info") });
  const live = element("p", { class: "rp-live", id: uid("live"), "aria-live": "polite" });
  const summary = element("p", { class: "rp-summary", id: uid("summary") });
  const couplingTable = element("table", { class: "rp-table", id: uid("coupling") });
  const parentTable = element("table", { class: "rp-table", id: uid("parents-table") });
  const agreementTable = element("table", { class: "rp-table", id: uid("agreement") });

  const figure = element(
    "div",
    { class: "rp-figure" },
    element("div", { class: "rp-plane-box" }, svg),
    element("div", { class: "rp-side" }, legend, summary, focusInfo, live),
  );
  const tables = element(
    "div",
    { class: "rp-tables" },
    element("div", { class: "rp-table-box", tabindex: 0, role: "region", "aria-label": "Coupling coefficients" }, couplingTable),
    element("div", { class: "rp-table-box", tabindex: 0, role: "region", "aria-label": "Parents by round" }, parentTable),
    element("div", { class: "rp-table-box", tabindex: 0, role: "region", "aria-label": "Agreements" }, agreementTable),
  );
  root.replaceChildren(controls, controls2, instructions, figure, tables);

  // --- drawing -----------------------------------------------------------------------------

  function marker(shape, x, y, radius) {
    if (shape === "circle") return svgElement("circle", { cx: x, cy: y, r: radius });
    if (shape === "square") {
      const h = radius * 0.9;
      return svgElement("rect", { x: x - h, y: y - h, width: 2 * h, height: 2 * h });
    }
    const h = radius * 1.25;
    return svgElement("polygon", { points: `${x},${y - h} ${x + h},${y} ${x},${y + h} ${x - h},${y}` });
  }

  function arrow(p, j, cls) {
    const [x, y] = toScreen(p);
    return svgElement("line", {
      x1: ox,
      y1: oy,
      x2: x,
      y2: y,
      stroke: COLOURS[j],
      class: cls,
      "marker-end": `url(#${uid(`arrow-${j}`)})`,
    });
  }

  const parentsCount = () => state.uHat[0].length;
  const shownRound = () => state.result.rounds[state.shown - 1];

  function pointLabel(i, j) {
    const u = state.uHat[i][j];
    const c = shownRound().c[i][j];
    return (
      `Child ${i}, prediction for parent ${j}: x ${fmt(u[0])}, y ${fmt(u[1])}; ` +
      `coupling coefficient ${fmt(c, 3)} in round ${state.shown}`
    );
  }

  function focusText(i, j) {
    const u = state.uHat[i][j];
    const cs = state.result.rounds.map((round) => fmt(round.c[i][j], 3)).join(", ");
    return `Child ${i} \u2192 parent ${j}: prediction ${vec(u)}; c by round: ${cs}.`;
  }

  // A point's shapes, at its place. Each point also has a transparent disc, its target for a
  // finger or a mouse: at least MIN_TARGET CSS pixels across however small the plane is drawn.
  const MIN_TARGET = 28;
  const unitsPerPixel = () => SIZE / (svg.getBoundingClientRect().width || SIZE);
  const targetRadius = () => Math.max(13, (MIN_TARGET / 2) * unitsPerPixel());

  function placePoint(group, i, j) {
    const [x, y] = toScreen(state.uHat[i][j]);
    const hit = svgElement("circle", { cx: x, cy: y, r: targetRadius(), class: "rp-hit" });
    const ring = marker(SHAPES[j], x, y, 13);
    ring.setAttribute("class", "rp-focus-ring");
    const shape = marker(SHAPES[j], x, y, 8);
    shape.setAttribute("fill", COLOURS[j]);
    shape.setAttribute("class", "rp-shape");
    const leader = svgElement("line", { class: "rp-leader", display: "none" });
    const text = svgElement("text", { class: "rp-point-text" }); // placed by placeLabels
    text.textContent = `${i}`;
    group.replaceChildren(hit, leader, ring, shape, text);
  }

  // The children's numbers. Children that agree put their points close together, so each
  // label goes to the first of a few places around its point where it covers no label placed
  // before it and no other point, inside the plane: next to the point, outward along its
  // vector first, then turning round it, then farther out, with a thin line back to the point.
  // The text is LABEL_PX CSS pixels high however small the plane is drawn.
  const LABEL_PX = 13;
  const MARK = 10; // a point's half-size, in SVG units
  const TURNS = [0, 1, -1, 2, -2, 3, -3, 4]; // eighths of a turn from the outward direction
  function placeLabels() {
    const size = Math.max(12, LABEL_PX * unitsPerPixel());
    const groups = [...pointsLayer.children];
    const centres = groups.map((g) => toScreen(state.uHat[g.dataset.child][g.dataset.parent]));
    const placed = []; // the boxes of the labels placed so far, [left, top, right, bottom]
    const overlap = (a, b) =>
      Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0])) *
      Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
    groups.forEach((group, n) => {
      const text = group.querySelector(".rp-point-text");
      const leader = group.querySelector(".rp-leader");
      text.setAttribute("font-size", size.toFixed(1));
      text.setAttribute("x", 0);
      text.setAttribute("y", 0);
      let glyphs = text.getBBox(); // the text's box, relative to its anchor
      if (!(glyphs.width > 0)) glyphs = { x: 0, y: -0.8 * size, width: 0.6 * size * text.textContent.length, height: size };
      const w = glyphs.width + 2;
      const h = glyphs.height;
      const [x, y] = centres[n];
      const outward = Math.hypot(x - ox, y - oy) > 1 ? Math.atan2(y - oy, x - ox) : -Math.PI / 4;
      let best = null;
      for (let ring = 0; ring < 5 && !(best && best.cost === 0); ring++) {
        for (const turn of TURNS) {
          const a = outward + (turn * Math.PI) / 4;
          const [dx, dy] = [Math.cos(a), Math.sin(a)];
          const reach = MARK + 2 + ring * h + (Math.abs(dx) * w) / 2 + (Math.abs(dy) * h) / 2;
          const [cx, cy] = [x + dx * reach, y + dy * reach];
          const box = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
          const outside = Math.max(0, -box[0], -box[1], box[2] - SIZE, box[3] - SIZE);
          const labels = placed.reduce((sum, other) => sum + overlap(box, other), 0);
          const points = centres.filter(
            ([px, py], k) => k !== n && overlap(box, [px - MARK, py - MARK, px + MARK, py + MARK]) > 0,
          ).length;
          const cost = 1e6 * labels + 1e3 * outside + points;
          if (!best || cost < best.cost) best = { cost, box, ring, cx, cy, dx, dy };
          if (cost === 0) break;
        }
      }
      placed.push(best.box);
      text.setAttribute("x", (best.box[0] + 1 - glyphs.x).toFixed(1));
      text.setAttribute("y", (best.box[1] - glyphs.y).toFixed(1));
      // a label away from its point: a line from the point's edge to the label's
      const far = best.ring > 0;
      leader.setAttribute("display", far ? "inline" : "none"); // none: not in the point's box
      if (far) {
        leader.setAttribute("x1", (x + best.dx * MARK).toFixed(1));
        leader.setAttribute("y1", (y + best.dy * MARK).toFixed(1));
        const back = (Math.abs(best.dx) * w) / 2 + (Math.abs(best.dy) * h) / 2;
        leader.setAttribute("x2", (best.cx - best.dx * back).toFixed(1));
        leader.setAttribute("y2", (best.cy - best.dy * back).toFixed(1));
      }
    });
  }

  // The points are redrawn in place: the one with focus stays the same element (a screen
  // reader announces a point once per key press, not a new point each time). Only a change
  // in the number of children or parents makes new points.
  function drawPoints() {
    const active = document.activeElement;
    const keep = active && active.dataset && active.dataset.child !== undefined
      ? [Number(active.dataset.child), Number(active.dataset.parent)]
      : null;
    const wanted = state.uHat.length * parentsCount();
    if (pointsLayer.children.length !== wanted) {
      pointsLayer.replaceChildren();
      state.uHat.forEach((row, i) => {
        row.forEach((u, j) => {
          pointsLayer.append(svgElement("g", {
            class: "rp-point",
            tabindex: 0,
            role: "button",
            "aria-roledescription": "draggable point",
            "data-child": i,
            "data-parent": j,
            id: uid(`point-${i}-${j}`),
          }));
        });
      });
    }
    for (const group of pointsLayer.children) {
      const i = Number(group.dataset.child);
      const j = Number(group.dataset.parent);
      group.setAttribute("aria-label", pointLabel(i, j));
      group.classList.toggle("rp-selected", i === state.selected);
      placePoint(group, i, j);
    }
    placeLabels();
    if (keep && document.activeElement !== active) {
      const again = document.getElementById(uid(`point-${keep[0]}-${keep[1]}`));
      if (again) again.focus({ preventScroll: true });
    }
  }

  function drawLines() {
    const round = shownRound();
    linesLayer.replaceChildren();
    state.uHat.forEach((row, i) => {
      row.forEach((u, j) => {
        const [x, y] = toScreen(u);
        const c = round.c[i][j];
        const line = svgElement("line", {
          x1: ox,
          y1: oy,
          x2: x,
          y2: y,
          stroke: COLOURS[j],
          "stroke-width": (0.5 + 9 * c).toFixed(2),
          "stroke-opacity": (0.25 + 0.6 * c).toFixed(2),
          class: "rp-coupling",
          "data-child": i,
          "data-parent": j,
        });
        const title = svgElement("title");
        title.textContent = `c(${i}\u2192${j}) = ${fmt(c, 3)}`;
        line.append(title);
        linesLayer.append(line);
      });
    });
    outputsLayer.replaceChildren();
    round.s.forEach((s, j) => outputsLayer.append(arrow(s, j, "rp-s")));
    if (state.wrongAxis) {
      state.right.rounds[state.shown - 1].v.forEach((v, j) => outputsLayer.append(arrow(v, j, "rp-v-right")));
    }
    round.v.forEach((v, j) => outputsLayer.append(arrow(v, j, "rp-v")));
  }

  function cell(tag, text, attributes = {}) {
    return element(tag, attributes, text);
  }

  function drawTables() {
    const m = parentsCount();
    const R = state.rounds;
    const rounds = state.result.rounds;
    const axis = state.wrongAxis ? "softmax over the children: the bug" : "softmax over the parents";

    // coupling coefficients: a row per child, round by round
    const head1 = element("tr", {}, cell("td", ""));
    const head2 = element("tr", {}, cell("th", "child", { scope: "col" }));
    for (let r = 0; r < R; r++) {
      head1.append(cell("th", `round ${r + 1}`, { colspan: m, scope: "colgroup" }));
      for (let j = 0; j < m; j++) head2.append(cell("th", `c\u1d62${j}`, { scope: "col", title: `to parent ${j}` }));
    }
    head1.append(cell("th", `sum over parents, round ${R}`, { rowspan: 2, scope: "col" }));
    const body = element("tbody");
    state.uHat.forEach((row, i) => {
      const tr = element("tr", {}, cell("th", `${i}`, { scope: "row" }));
      for (let r = 0; r < R; r++) {
        for (let j = 0; j < m; j++) {
          const c = rounds[r].c[i][j];
          const td = cell("td", fmt(c, 3), { "data-round": r + 1, "data-child": i, "data-parent": j });
          td.style.background = `rgba(0, 0, 0, ${(0.18 * c).toFixed(3)})`;
          if (r + 1 === state.shown) td.classList.add("rp-shown");
          tr.append(td);
        }
      }
      const sum = rounds[R - 1].c[i].reduce((a, x) => a + x, 0);
      tr.append(cell("td", fmt(sum, 3), { class: Math.abs(sum - 1) > 1e-6 ? "rp-off" : "" }));
      body.append(tr);
    });
    couplingTable.replaceChildren(
      element("caption", {}, `Coupling coefficients c\u1d62\u2c7c by round (${axis})`),
      element("thead", {}, head1, head2),
      body,
    );

    // parents: s_j, v_j and |v_j| by round
    const phead = element(
      "tr",
      {},
      cell("th", "round", { scope: "col" }),
      cell("th", "parent", { scope: "col" }),
      cell("th", "s\u2c7c = \u03a3\u1d62 c\u1d62\u2c7c \u00fb\u2c7c|\u1d62", { scope: "col" }),
      cell("th", "|s\u2c7c|", { scope: "col" }),
      cell("th", "v\u2c7c = squash(s\u2c7c)", { scope: "col" }),
      cell("th", "|v\u2c7c|", { scope: "col" }),
    );
    const pbody = element("tbody");
    rounds.forEach((round, r) => {
      round.s.forEach((s, j) => {
        const v = round.v[j];
        const tr = element(
          "tr",
          { class: r + 1 === state.shown ? "rp-shown" : "" },
          cell("th", `${r + 1}`, { scope: "row" }),
          cell("td", `${j}`),
          cell("td", vec(s), { "data-round": r + 1, "data-parent": j, "data-kind": "s" }),
          cell("td", fmt(Math.hypot(...s), 3)),
          cell("td", vec(v), { "data-round": r + 1, "data-parent": j, "data-kind": "v" }),
          cell("td", fmt(Math.hypot(...v), 3)),
        );
        pbody.append(tr);
      });
    });
    parentTable.replaceChildren(
      element("caption", {}, "Each parent's input s\u2c7c and output v\u2c7c by round"),
      element("thead", {}, phead),
      pbody,
    );

    // agreements: what each round adds to b
    const ahead1 = element("tr", {}, cell("td", ""));
    const ahead2 = element("tr", {}, cell("th", "child", { scope: "col" }));
    for (let r = 0; r < R - 1; r++) {
      ahead1.append(cell("th", `after round ${r + 1}`, { colspan: m, scope: "colgroup" }));
      for (let j = 0; j < m; j++) ahead2.append(cell("th", `\u00fb\u2c7c|\u1d62\u00b7v\u2c7c, j = ${j}`, { scope: "col" }));
    }
    const abody = element("tbody");
    if (R === 1) {
      abody.append(element("tr", {}, cell("td", "One round: b is never updated.")));
    } else {
      state.uHat.forEach((row, i) => {
        const tr = element("tr", {}, cell("th", `${i}`, { scope: "row" }));
        for (let r = 0; r < R - 1; r++) {
          for (let j = 0; j < m; j++) {
            tr.append(cell("td", fmt(rounds[r].agreement[i][j], 3), { "data-round": r + 1, "data-child": i, "data-parent": j }));
          }
        }
        abody.append(tr);
      });
    }
    agreementTable.replaceChildren(
      element("caption", {}, "Agreement \u00fb\u2c7c|\u1d62 \u00b7 v\u2c7c, added to the logit b\u1d62\u2c7c for the next round"),
      R === 1 ? element("thead") : element("thead", {}, ahead1, ahead2),
      abody,
    );
  }

  function drawSide() {
    const round = shownRound();
    legend.replaceChildren();
    for (let j = 0; j < parentsCount(); j++) {
      const swatch = element("span", { class: "rp-swatch", "aria-hidden": "true" });
      swatch.style.background = COLOURS[j];
      legend.append(element("li", {}, swatch, `Parent ${j} (${NAMES[j]}): v${j} = ${vec(round.v[j])}, length ${fmt(Math.hypot(...round.v[j]), 3)}`));
    }
    summary.textContent =
      `Round ${state.shown} of ${state.rounds}, ${state.uHat.length} children` +
      (state.wrongAxis
        ? "; softmax over the children (the bug): each parent's coefficients sum to 1, so s is an average and parents no longer compete for a child. The faint dotted arrows are the outputs with the right axis."
        : "; softmax over the parents: each child's coefficients sum to 1.");
    focusInfo.textContent = state.focus
      ? focusText(...state.focus)
      : "Hover over a point, or give it focus, to see its coefficients.";
  }

  function update({ announce = null } = {}) {
    state.result = route(state.uHat, state.rounds, state.wrongAxis);
    state.right = state.wrongAxis ? route(state.uHat, state.rounds, false) : state.result;
    state.shown = Math.min(state.shown, state.rounds);
    shownSlider.max = String(state.rounds);
    shownSlider.value = String(state.shown);
    shownSlider.disabled = state.rounds === 1;
    shownOutput.textContent = `${state.shown}`;
    removeButton.textContent = `Remove child ${state.selected}`;
    removeButton.disabled = state.uHat.length <= MIN_CHILDREN;
    addButton.disabled = state.uHat.length >= MAX_CHILDREN;
    drawLines();
    drawPoints();
    drawTables();
    drawSide();
    if (announce) live.textContent = announce;
    state.renders += 1;
  }

  // --- interaction -------------------------------------------------------------------------

  function move(i, j, p) {
    state.uHat[i][j] = [round3(clamp(p[0])), round3(clamp(p[1]))];
    state.selected = i;
    state.focus = [i, j];
    update();
  }

  function pointOf(target) {
    const group = target.closest && target.closest(".rp-point");
    return group ? [Number(group.dataset.child), Number(group.dataset.parent)] : null;
  }

  function planeCoordinates(event) {
    const matrix = svg.getScreenCTM();
    if (!matrix) return null;
    const p = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
    return [((p.x - SIZE / 2) / (SIZE / 2)) * EXTENT, (-(p.y - SIZE / 2) / (SIZE / 2)) * EXTENT];
  }

  let dragging = null;
  svg.addEventListener("pointerdown", (event) => {
    const point = pointOf(event.target);
    if (!point) return;
    event.preventDefault();
    dragging = point;
    svg.setPointerCapture(event.pointerId);
    document.getElementById(uid(`point-${point[0]}-${point[1]}`)).focus({ preventScroll: true });
  });
  svg.addEventListener("pointermove", (event) => {
    if (dragging) {
      const p = planeCoordinates(event);
      if (p) move(dragging[0], dragging[1], p);
      return;
    }
    const point = pointOf(event.target);
    if (point && (!state.focus || point[0] !== state.focus[0] || point[1] !== state.focus[1])) {
      state.focus = point;
      drawSide();
    }
  });
  const endDrag = (event) => {
    if (!dragging) return;
    const [i, j] = dragging;
    dragging = null;
    if (svg.hasPointerCapture(event.pointerId)) svg.releasePointerCapture(event.pointerId);
    live.textContent = pointLabel(i, j);
  };
  // a finger on a point drags it, not the page (touch-action on the plane lets the page
  // scroll under a swipe that starts anywhere else; SVG shapes inside it cannot say otherwise)
  svg.addEventListener(
    "touchstart",
    (event) => {
      if (pointOf(event.target)) event.preventDefault();
    },
    { passive: false },
  );
  svg.addEventListener("pointerup", endDrag);
  svg.addEventListener("pointercancel", endDrag);

  svg.addEventListener("focusin", (event) => {
    const point = pointOf(event.target);
    if (!point) return;
    state.focus = point;
    if (state.selected !== point[0]) {
      state.selected = point[0];
      removeButton.textContent = `Remove child ${state.selected}`;
      pointsLayer.querySelectorAll(".rp-point").forEach((g) => {
        g.classList.toggle("rp-selected", Number(g.dataset.child) === state.selected);
      });
    }
    drawSide();
  });

  svg.addEventListener("keydown", (event) => {
    const point = pointOf(event.target);
    if (!point) return;
    if (event.key === "Enter" || event.key === " ") {
      // a point is a button: pressing it picks its child (for "Remove child") and reads out
      // where it is and its coefficient in every round
      event.preventDefault();
      const [i, j] = point;
      state.selected = i;
      state.focus = point;
      update();
      live.textContent = `${focusText(i, j)} Child ${i} selected: "Remove child ${i}" removes it.`;
      return;
    }
    const delta = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] }[event.key];
    if (!delta) return;
    event.preventDefault();
    const step = event.shiftKey ? STEP / 5 : STEP;
    const [i, j] = point;
    const u = state.uHat[i][j];
    move(i, j, [u[0] + delta[0] * step, u[1] + delta[1] * step]);
    live.textContent = pointLabel(i, j);
  });

  roundsSelect.addEventListener("change", () => {
    const wasLast = state.shown === state.rounds;
    state.rounds = Number(roundsSelect.value);
    if (wasLast || state.shown > state.rounds) state.shown = state.rounds;
    update({ announce: `${state.rounds} rounds of routing` });
  });
  shownSlider.addEventListener("input", () => {
    state.shown = Number(shownSlider.value);
    update();
  });
  parentsSelect.addEventListener("change", () => {
    const m = Number(parentsSelect.value);
    const toy = toyPredictions(3);
    state.uHat = state.uHat.map((row, i) => {
      if (m < row.length) return row.slice(0, m);
      const extra = i < toy.length ? toy[i][2] : newChild(i, 3)[2];
      return [...row, extra];
    });
    state.focus = null;
    update({ announce: `${m} parents` });
  });
  wrongBox.addEventListener("change", () => {
    state.wrongAxis = wrongBox.checked;
    update({ announce: state.wrongAxis ? "Softmax over the children: the bug" : "Softmax over the parents" });
  });
  addButton.addEventListener("click", () => {
    if (state.uHat.length >= MAX_CHILDREN) return;
    state.uHat.push(newChild(state.uHat.length, parentsCount()));
    state.selected = state.uHat.length - 1;
    update({ announce: `Child ${state.selected} added` });
  });
  removeButton.addEventListener("click", () => {
    if (state.uHat.length <= MIN_CHILDREN) return;
    const gone = state.selected;
    state.uHat.splice(gone, 1);
    state.selected = Math.min(gone, state.uHat.length - 1);
    state.focus = null;
    update({ announce: `Child ${gone} removed; the children after it are numbered one less` });
  });
  resetButton.addEventListener("click", () => {
    state.uHat = toyPredictions(Number(parentsSelect.value));
    state.selected = 0;
    state.focus = null;
    update({ announce: "Predictions reset to chapter 3's toy" });
  });

  // for the tests (and the curious reader's console): set the predictions, read the state
  api.setPredictions = (uHat) => {
    state.uHat = uHat.map((row) => row.map((p) => [p[0], p[1]]));
    parentsSelect.value = String(uHat[0].length);
    state.selected = 0;
    state.focus = null;
    update();
  };
  api.update = update;

  // the points' targets follow the size the plane is drawn at
  if (window.ResizeObserver) {
    let drawnWidth = 0;
    new ResizeObserver(() => {
      const width = svg.getBoundingClientRect().width;
      if (Math.abs(width - drawnWidth) < 1) return;
      drawnWidth = width;
      drawPoints();
    }).observe(svg);
  }

  // inside a frame (chapter 3): the frame as tall as the playground. A frame of the same site
  // is resized from here; a page opened from disk is another origin to its frame, so the
  // height also goes to the chapter's page, whose accessibility.js sets it.
  if (window.parent !== window && window.ResizeObserver) {
    const fit = () => {
      const bottom = document.body.getBoundingClientRect().bottom + window.scrollY;
      const height = Math.ceil(bottom) + 16;
      try {
        if (window.frameElement) window.frameElement.style.height = `${height}px`;
      } catch (error) {
        // another origin: the message below does it
      }
      window.parent.postMessage({ capsnetsFrameHeight: height }, "*");
    };
    new ResizeObserver(fit).observe(document.body);
  }

  update();
})();
