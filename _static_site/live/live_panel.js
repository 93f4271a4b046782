/* The course's live panels: "Train it yourself" (the toy model trained in a Web Worker, drawn a few
 * times a second) and the 2-D picture (n = 5, m = 2, retrained as the sliders move).
 *
 * A panel is a <div class="course-live" data-live="trainer|arrows" data-config='{...}'> written by
 * utils/live.py; this script fills it with native controls (every one reachable with Tab), draws on
 * <canvas>/<svg> with text alternatives that follow the numbers, and announces progress politely
 * (aria-live). It needs window.ToyTrainer (toy_trainer.js, loaded first). The worker is started from
 * the trainer's own source text (a Blob URL); where a browser refuses workers, training runs on the
 * page in short slices and the panel says so.
 */
(function () {
  'use strict';
  var T = window.ToyTrainer;
  var COLORS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#000000'];
  var FRAME_MS = 200, SLICE_MS = 30;
  var U_SQUARE_MEAN = 4 / 3;  // E[u^2] for u ~ Uniform(0, 2)
  var counter = 0;

  var CSS = [
    '.course-live{border:1px solid #bbb;border-radius:6px;padding:10px 12px;margin:12px 0;background:#fff;color:#111}',
    '.course-live fieldset{border:0;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:6px 14px}',
    '.course-live legend{font-weight:600;font-size:1em;margin-bottom:4px;float:none;width:auto}',
    '.course-live-field{display:inline-flex;flex-direction:column;font-size:0.9em;min-width:7.5em}',
    '.course-live-field input[type=number]{width:7em;min-height:28px}',
    '.course-live-field input[type=range]{width:14em;min-height:28px}',
    '.course-live-help{color:#444;font-size:0.85em}',
    '.course-live-buttons{margin:8px 0}',
    '.course-live button{min-height:32px;min-width:5em;margin-right:8px;padding:2px 12px}',
    '.course-live [aria-invalid=true]{outline:2px solid #B00020}',
    '.course-live-status{font-weight:600;margin:4px 0}',
    '.course-live-numbers{font-family:monospace;font-size:0.9em;margin:4px 0}',
    '.course-live-pictures{display:flex;flex-wrap:wrap;gap:8px}',
    '.course-live .course-live-figure{margin:0;padding:0}',
    '.course-live .course-live-figure figcaption{font-size:0.85em;text-align:center;color:#222;margin:2px 0 0;padding:0}',
    '.course-live-sliders{display:flex;flex-wrap:wrap;gap:6px 18px;align-items:flex-end}',
    '.course-live-arrows{max-width:100%;height:auto;display:block}',
  ].join('\n');

  function addStyle() {
    if (document.getElementById('course-live-style')) return;
    var st = document.createElement('style');
    st.id = 'course-live-style';
    st.textContent = CSS;
    document.head.appendChild(st);
  }

  // ---------------------------------------------------------------- small helpers
  function el(tag, attrs, parent, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }

  function svgEl(tag, attrs, parent) {
    var e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function fmt(v, digits) {
    if (v === null || v === undefined || !isFinite(v)) return 'n/a';
    return Number(v).toPrecision(digits || 3);
  }

  function pct(v) { return Math.round(100 * v) + '%'; }

  /** A canvas of CSS size w x h drawn at the screen's pixel density; returns its 2-D context. */
  function sizedCanvas(canvas, w, h) {
    var r = window.devicePixelRatio || 1;
    canvas.width = Math.round(w * r); canvas.height = Math.round(h * r);
    canvas.style.width = w + 'px'; canvas.style.height = h + 'px';
    var ctx = canvas.getContext('2d');
    ctx.setTransform(r, 0, 0, r, 0, 0);
    return ctx;
  }

  /** Axes with a few ticks; x and y map data to pixels (log or linear); returns {x, y} maps. */
  function axes(ctx, box, xr, yr, xlog, ylog, xlabel, ylabel) {
    var W = box.w, H = box.h, L = 52, R = 10, Tp = 10, B = 36;
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, W, H);
    function map(v, r, a, b, log) {
      var t = log ? (Math.log(v) - Math.log(r[0])) / (Math.log(r[1]) - Math.log(r[0])) : (v - r[0]) / (r[1] - r[0]);
      return a + t * (b - a);
    }
    var X = function (v) { return map(v, xr, L, W - R, xlog); };
    var Y = function (v) { return map(v, yr, H - B, Tp, ylog); };
    ctx.strokeStyle = '#333'; ctx.lineWidth = 1; ctx.fillStyle = '#222'; ctx.font = '11px sans-serif';
    ctx.strokeRect(L, Tp, W - L - R, H - Tp - B);
    ticks(xr, xlog).forEach(function (t) {
      var px = X(t); ctx.beginPath(); ctx.moveTo(px, H - B); ctx.lineTo(px, H - B + 4); ctx.stroke();
      ctx.textAlign = 'center'; ctx.fillText(tickLabel(t), px, H - B + 15);
    });
    ticks(yr, ylog).forEach(function (t) {
      var py = Y(t); ctx.beginPath(); ctx.moveTo(L - 4, py); ctx.lineTo(L, py); ctx.stroke();
      ctx.textAlign = 'right'; ctx.fillText(tickLabel(t), L - 6, py + 4);
    });
    ctx.textAlign = 'center'; ctx.fillText(xlabel, (L + W - R) / 2, H - 4);
    ctx.save(); ctx.translate(12, (Tp + H - B) / 2); ctx.rotate(-Math.PI / 2); ctx.fillText(ylabel, 0, 0); ctx.restore();
    return {x: X, y: Y, left: L, right: W - R, top: Tp, bottom: H - B};
  }

  function ticks(r, log) {
    var out = [], k;
    if (log) {
      for (k = Math.ceil(Math.log10(r[0]) - 1e-9); k <= Math.floor(Math.log10(r[1]) + 1e-9); k++) out.push(Math.pow(10, k));
      if (out.length < 2) { out = [r[0], r[1]]; }
      return out;
    }
    var span = r[1] - r[0], step = Math.pow(10, Math.floor(Math.log10(span / 4)));
    if (span / step > 8) step *= 2;
    if (span / step > 8) step *= 2.5;
    for (k = Math.ceil(r[0] / step); k * step <= r[1] + 1e-9; k++) out.push(k * step);
    return out;
  }

  function tickLabel(t) {
    if (t !== 0 && (Math.abs(t) < 1e-2 || Math.abs(t) >= 1e5)) return t.toExponential(0).replace('e', 'e');
    return String(Math.round(t * 1000) / 1000);
  }

  /** Red-white-blue for values in [-1, 1] (blue negative, red positive), as plotting's RdBu_r. */
  function diverging(v) {
    var t = Math.max(-1, Math.min(1, v));
    var lo = [33, 102, 172], mid = [247, 247, 247], hi = [178, 24, 43], c = t < 0 ? lo : hi, a = Math.abs(t);
    return [0, 1, 2].map(function (i) { return Math.round(mid[i] + a * (c[i] - mid[i])); });
  }

  // ---------------------------------------------------------------- running a training
  /** Train with `config`: in a Web Worker when the browser allows one, else on the page in slices.
   * Calls on.frame(snapshot) a few times a second and on.done(snapshot) once. */
  function startTraining(config, on, forceMain) {
    var worker = null;
    if (!forceMain && typeof Worker !== 'undefined') {
      try {
        var url = URL.createObjectURL(new Blob([T.workerSource], {type: 'text/javascript'}));
        worker = new Worker(url);
        URL.revokeObjectURL(url);
      } catch (err) {
        worker = null;
      }
    }
    if (worker) {
      var heard = false, fellBack = null;
      worker.onmessage = function (ev) {
        heard = true;
        var msg = ev.data;
        if (msg.type === 'frame') on.frame(msg.snapshot);
        else if (msg.type === 'done') { on.done(msg.snapshot); worker.terminate(); }
        else if (msg.type === 'error') { on.error(msg.message); worker.terminate(); }
      };
      worker.onerror = function (ev) {
        ev.preventDefault();
        worker.terminate();
        if (!heard) fellBack = startTraining(config, on, true);  // refused after all: run on the page
        else on.error(ev.message || 'the worker stopped');
      };
      worker.postMessage({type: 'start', config: config, frameMs: FRAME_MS});
      return {where: 'worker', stop: function () { if (fellBack) fellBack.stop(); else worker.postMessage({type: 'stop'}); }};
    }
    var run, stop = false, last = 0;
    try { run = T.createRun(config); } catch (err) { setTimeout(function () { on.error(err.message); }, 0); return {where: 'page', stop: function () {}}; }
    on.mainThread();
    (function tick() {
      var done = run.advance(SLICE_MS);
      if (done || stop) {
        if (done) run.finish();
        var snap = run.snapshot(); snap.stopped = !done;
        on.done(snap);
        return;
      }
      if (Date.now() - last >= FRAME_MS) { last = Date.now(); on.frame(run.snapshot()); }
      setTimeout(tick, 0);
    })();
    return {where: 'page', stop: function () { stop = true; }};
  }

  // ---------------------------------------------------------------- the "Train it yourself" panel
  var FIELDS = [
    {key: 'n', label: 'features n', min: 10, max: 400, step: 10, help: 'up to 400'},
    {key: 'm', label: 'width m', min: 1, max: 100, step: 1, help: 'smaller than n'},
    {key: 'gamma', label: 'weight decay γ', min: -1, max: 1, step: 0.1, help: '< 0 pulls rows to length 1'},
    {key: 'alpha', label: 'exponent α', min: 0, max: 3, step: 0.1, help: 'p_i ∝ i^-α'},
    {key: 'E', label: 'density E', min: 0.1, max: 10, step: 0.1, help: 'active features per sample'},
    {key: 'steps', label: 'steps', min: 100, max: 10000, step: 100, help: '10% warm-up, then cosine'},
    {key: 'batch', label: 'batch', min: 16, max: 1024, step: 16, help: 'samples per step'},
    {key: 'seed', label: 'seed', min: 0, max: 999999, step: 1, help: 'start and data'},
  ];

  function mountTrainer(root, cfg) {
    var uid = root.id || ('course-live-' + (++counter));
    root.id = uid;
    root.setAttribute('role', 'region');
    root.setAttribute('aria-label', 'Train it yourself: the toy model trained in your browser');
    var form = el('form', {class: 'course-live-form', novalidate: ''}, root);
    var fs = el('fieldset', {}, form);
    el('legend', {}, fs, 'Settings');
    var inputs = {};
    FIELDS.forEach(function (f) {
      var wrap = el('label', {class: 'course-live-field', for: uid + '-' + f.key}, fs);
      el('span', {class: 'course-live-name'}, wrap, f.label);
      var inp = el('input', {type: 'number', id: uid + '-' + f.key, name: f.key, min: f.min, max: f.max, step: f.step,
                             value: cfg[f.key], inputmode: 'decimal', 'aria-describedby': uid + '-' + f.key + '-help'}, wrap);
      el('span', {class: 'course-live-help', id: uid + '-' + f.key + '-help'}, wrap, f.help);
      inputs[f.key] = inp;
    });
    var buttons = el('div', {class: 'course-live-buttons'}, form);
    var train = el('button', {type: 'submit', class: 'course-live-train'}, buttons, 'Train');
    var stop = el('button', {type: 'button', class: 'course-live-stop', disabled: ''}, buttons, 'Stop');
    var status = el('p', {class: 'course-live-status', role: 'status', 'aria-live': 'polite', id: uid + '-status'}, root,
                    'Ready: choose the settings and press Train. Training runs in your browser; nothing is sent anywhere.');
    var note = el('p', {class: 'course-live-note', role: 'note', hidden: ''}, root, '');
    var numbers = el('p', {class: 'course-live-numbers', id: uid + '-numbers'}, root, '');
    var pics = el('div', {class: 'course-live-pictures'}, root);
    function picture(title, w, h) {
      var fig = el('figure', {class: 'course-live-figure'}, pics);
      var canvas = el('canvas', {role: 'img', 'aria-label': title + ': not trained yet.'}, fig);
      el('figcaption', {}, fig, title);
      sizedCanvas(canvas, w, h);
      return canvas;
    }
    var lossCanvas = picture('Training loss against step', 330, 230);
    var normCanvas = picture('Row norms against rank', 330, 230);
    var gramCanvas = picture('W Wᵀ of the most frequent features', 250, 230);

    var job = null, announced = 0, started = 0, where = '', stopPressed = false;

    function read() {
      var c = {};
      FIELDS.forEach(function (f) {
        inputs[f.key].removeAttribute('aria-invalid');
        c[f.key] = inputs[f.key].value.trim() === '' ? NaN : Number(inputs[f.key].value);
      });
      c.warmup = Math.round(c.steps / 10);
      c.gramSize = Math.min(50, c.n || 50);
      T.settings(c);             // throws with the argument's name
      T.powerLaw(c.n, c.alpha, c.E);
      return c;
    }

    function draw(s, c) {
      drawLoss(lossCanvas, s, c);
      drawNorms(normCanvas, s, c);
      drawGram(gramCanvas, s);
      numbers.textContent = 'step ' + s.step + ' of ' + s.steps + ' · loss (last steps) ' + fmt(recentLoss(s)) +
        ' · φ½ = ' + fmt(s.phi_half) + ' · φ₁ = ' + fmt(s.phi_one) + ' · m × msq (strong set) = ' +
        (s.m_msq_strong === null ? 'n/a (fewer than 2 rows with norm > 1)' : fmt(s.m_msq_strong));
    }

    function finishUI() {
      job = null;
      train.disabled = false; stop.disabled = true;
      root.removeAttribute('aria-busy');
      if (stopPressed) { stopPressed = false; train.focus(); }  // Stop was pressed: focus goes back to Train
    }

    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      if (job) return;
      var c;
      try {
        c = read();
      } catch (err) {
        var name = (err.message.match(/^(\w+) must/) || [])[1];
        if (inputs[name]) { inputs[name].setAttribute('aria-invalid', 'true'); inputs[name].focus(); }
        status.textContent = 'Cannot train: ' + err.message + '.';
        return;
      }
      ['finalLoss', 'phiHalf', 'phiOne', 'mMsqStrong', 'msPerStep', 'stoppedAt'].forEach(function (k) { delete root.dataset[k]; });
      root.dataset.state = 'running';
      root.setAttribute('aria-busy', 'true');
      train.disabled = true; stop.disabled = false;
      announced = 0; started = Date.now(); where = 'worker';
      status.textContent = 'Training ' + c.steps + ' steps (n = ' + c.n + ', m = ' + c.m + ', γ = ' + c.gamma + ') ...';
      job = startTraining(c, {
        mainThread: function () {
          where = 'page';
          note.hidden = false;
          note.textContent = 'This browser does not allow a background worker here, so training runs on the page ' +
            'in short slices: the page may feel slower while it trains.';
          status.textContent = note.textContent + ' Training ' + c.steps + ' steps ...';
        },
        frame: function (s) {
          draw(s, c);
          var quarter = Math.floor(4 * s.step / s.steps);
          if (quarter > announced && quarter < 4) {
            announced = quarter;
            status.textContent = 'Training: ' + pct(quarter / 4) + ' of ' + s.steps + ' steps, loss ' + fmt(recentLoss(s)) +
              ', φ½ = ' + fmt(s.phi_half) + '.';
          }
        },
        done: function (s) {
          draw(s, c);
          var secs = (Date.now() - started) / 1000;
          root.dataset.phiHalf = s.phi_half;
          root.dataset.phiOne = s.phi_one;
          root.dataset.msPerStep = fmt(s.ms_per_step, 3);
          root.dataset.seconds = secs.toFixed(2);
          if (s.m_msq_strong !== null) root.dataset.mMsqStrong = s.m_msq_strong;
          if (s.stopped) {
            root.dataset.stoppedAt = s.step;
            root.dataset.state = 'stopped';
            status.textContent = 'Stopped at step ' + s.step + ' of ' + s.steps + ': φ½ = ' + fmt(s.phi_half) +
              ', φ₁ = ' + fmt(s.phi_one) + ' for the weights at that step.';
          } else {
            root.dataset.finalLoss = s.final_loss;
            root.dataset.state = 'done';
            status.textContent = 'Done: ' + s.steps + ' steps in ' + secs.toFixed(1) + ' s (' + fmt(s.ms_per_step, 2) +
              ' ms per step' + (where === 'page' ? ', on the page' : ', in a worker') + '). Final loss on 10,000 fresh samples ' +
              fmt(s.final_loss) + '; φ½ = ' + fmt(s.phi_half) + ', φ₁ = ' + fmt(s.phi_one) + ', m × msq of the strong set = ' +
              fmt(s.m_msq_strong) + '.';
          }
          finishUI();
        },
        error: function (message) {
          status.textContent = 'Training failed: ' + message;
          root.dataset.state = 'error';
          finishUI();
        },
      });
    });
    stop.addEventListener('click', function () {
      if (job) { stopPressed = true; job.stop(); status.textContent = 'Stopping ...'; }
    });
    root.dataset.state = 'ready';
  }

  function recentLoss(s) {
    var k = Math.min(s.losses.length, 50), sum = 0;
    for (var i = s.losses.length - k; i < s.losses.length; i++) sum += s.losses[i];
    return k ? sum / k : null;
  }

  /** The logged losses averaged over ~200 bins (one point per bin). */
  function binned(losses) {
    var bins = Math.min(200, losses.length), out = [];
    for (var b = 0; b < bins; b++) {
      var a = Math.floor(b * losses.length / bins), e = Math.floor((b + 1) * losses.length / bins), sum = 0;
      for (var i = a; i < e; i++) sum += losses[i];
      if (e > a) out.push([(a + e + 1) / 2, sum / (e - a)]);
    }
    return out;
  }

  function drawLoss(canvas, s, c) {
    var ctx = canvas.getContext('2d'), w = parseFloat(canvas.style.width), h = parseFloat(canvas.style.height);
    var pts = binned(s.losses), zero = c.E * U_SQUARE_MEAN / c.n;
    var lo = zero, hi = zero;
    pts.forEach(function (p) { lo = Math.min(lo, p[1]); hi = Math.max(hi, p[1]); });
    lo = Math.pow(10, Math.floor(Math.log10(lo * 0.9))); hi = Math.pow(10, Math.ceil(Math.log10(hi * 1.1)));
    var ax = axes(ctx, {w: w, h: h}, [0, s.steps], [lo, hi], false, true, 'step', 'loss (log scale)');
    ctx.setLineDash([5, 4]); ctx.strokeStyle = '#555';
    ctx.beginPath(); ctx.moveTo(ax.left, ax.y(zero)); ctx.lineTo(ax.right, ax.y(zero)); ctx.stroke();
    ctx.setLineDash([]); ctx.fillStyle = '#333'; ctx.textAlign = 'right';
    ctx.fillText('output 0', ax.right - 4, ax.y(zero) - 4);
    ctx.strokeStyle = COLORS[0]; ctx.lineWidth = 2; ctx.beginPath();
    pts.forEach(function (p, i) { if (i) ctx.lineTo(ax.x(p[0]), ax.y(p[1])); else ctx.moveTo(ax.x(p[0]), ax.y(p[1])); });
    ctx.stroke();
    var first = pts.length ? pts[0][1] : null;
    canvas.setAttribute('aria-label', 'Training loss against step, log scale, step ' + s.step + ' of ' + s.steps +
      ': it started near ' + fmt(first) + ' and is ' + fmt(recentLoss(s)) + ' over the last steps; the dashed line, ' +
      fmt(zero) + ', is the loss of always outputting 0.');
  }

  function drawNorms(canvas, s, c) {
    var ctx = canvas.getContext('2d'), w = parseFloat(canvas.style.width), h = parseFloat(canvas.style.height);
    var norms = s.norms, n = norms.length, top = 1.5, i;
    for (i = 0; i < n; i++) top = Math.max(top, norms[i] * 1.05);
    var ax = axes(ctx, {w: w, h: h}, [1, n], [0, top], true, false, 'feature rank (1 = most frequent)', 'row norm ‖Wᵢ‖');
    ctx.setLineDash([5, 4]); ctx.strokeStyle = '#555';
    [0.5, 1].forEach(function (v) { ctx.beginPath(); ctx.moveTo(ax.left, ax.y(v)); ctx.lineTo(ax.right, ax.y(v)); ctx.stroke(); });
    ctx.setLineDash([]); ctx.fillStyle = COLORS[0];
    for (i = 0; i < n; i++) { ctx.beginPath(); ctx.arc(ax.x(i + 1), ax.y(norms[i]), 2, 0, 2 * Math.PI); ctx.fill(); }
    var half = 0, one = 0, lastKept = 0;
    for (i = 0; i < n; i++) { if (norms[i] > 0.5) { half++; lastKept = i + 1; } if (norms[i] > 1) one++; }
    canvas.setAttribute('aria-label', 'Row norm of W against feature rank on a log axis, ' + n + ' features: ' + half +
      ' rows are longer than 1/2 and ' + one + ' longer than 1 (dashed lines at 1/2 and 1); the most frequent feature\'s row has norm ' +
      fmt(norms[0]) + ', the rarest ' + fmt(norms[n - 1]) + (half ? ', and the rarest row longer than 1/2 is rank ' + lastKept : '') + '.');
  }

  function drawGram(canvas, s) {
    var ctx = canvas.getContext('2d'), w = parseFloat(canvas.style.width), h = parseFloat(canvas.style.height);
    var k = s.gramSize, g = s.gram, size = Math.min(w - 20, h - 40), x0 = (w - size) / 2, y0 = 8, i, j;
    ctx.clearRect(0, 0, w, h); ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, w, h);
    var cell = size / k, diag = 0, off = 0, offMax = 0;
    for (i = 0; i < k; i++) {
      for (j = 0; j < k; j++) {
        var v = g[i * k + j], col = diverging(v);
        ctx.fillStyle = 'rgb(' + col.join(',') + ')';
        ctx.fillRect(x0 + j * cell, y0 + i * cell, Math.ceil(cell), Math.ceil(cell));
        if (i === j) diag += v; else { off += Math.abs(v); offMax = Math.max(offMax, Math.abs(v)); }
      }
    }
    ctx.strokeStyle = '#333'; ctx.strokeRect(x0, y0, size, size);
    ctx.fillStyle = '#222'; ctx.font = '11px sans-serif'; ctx.textAlign = 'center';
    ctx.fillText('features 1-' + k + ' · blue −1, white 0, red +1', w / 2, y0 + size + 16);
    canvas.setAttribute('aria-label', 'W W-transpose of the ' + k + ' most frequent features, colour from blue (-1) ' +
      'through white (0) to red (+1): the diagonal (squared row norms) averages ' + fmt(diag / k) +
      '; off the diagonal the mean absolute overlap is ' + fmt(k > 1 ? off / (k * (k - 1)) : 0) + ' and the largest ' + fmt(offMax) + '.');
  }

  // ---------------------------------------------------------------- the 2-D picture
  function range(lo, hi, step) {
    var out = [];
    for (var v = lo; v <= hi + 1e-9; v += step) out.push(Math.round(v * 1000) / 1000);
    return out;
  }

  function mountArrows(root, cfg) {
    var uid = root.id || ('course-live-' + (++counter));
    root.id = uid;
    root.setAttribute('role', 'group');
    root.setAttribute('aria-label', 'The 2-D picture, trained live: move gamma and the density E');
    var gammas = range(-1, 1, 0.1), densities = cfg.densities;
    var controls = el('div', {class: 'course-live-sliders'}, root);
    function slider(key, label, values, start) {
      var wrap = el('label', {class: 'course-live-field', for: uid + '-' + key}, controls);
      var name = el('span', {class: 'course-live-name'}, wrap, label + ' = ');
      var out = el('output', {for: uid + '-' + key, id: uid + '-' + key + '-out'}, name);
      var inp = el('input', {type: 'range', id: uid + '-' + key, min: 0, max: values.length - 1, step: 1,
                             value: start, 'aria-label': label}, wrap);
      function sync() {
        var v = values[+inp.value];
        out.textContent = String(v);
        inp.setAttribute('aria-valuetext', label + ' = ' + v);
      }
      sync();
      inp.addEventListener('input', function () { sync(); schedule(); });
      return {value: function () { return values[+inp.value]; }};
    }
    function nearest(values, v) {
      var best = 0;
      values.forEach(function (x, i) { if (Math.abs(x - v) < Math.abs(values[best] - v)) best = i; });
      return best;
    }
    var g = slider('gamma', 'gamma', gammas, nearest(gammas, cfg.gamma));
    var e = slider('E', 'E', densities, nearest(densities, cfg.E));
    var seedWrap = el('label', {class: 'course-live-field', for: uid + '-seed'}, controls);
    el('span', {class: 'course-live-name'}, seedWrap, 'seed ');
    var seed = el('input', {type: 'number', id: uid + '-seed', min: 0, max: 999999, step: 1, value: cfg.seed}, seedWrap);
    seed.addEventListener('input', schedule);
    var S = 300, R = 110, C = S / 2;
    var svg = svgEl('svg', {viewBox: '0 0 ' + S + ' ' + S, width: S, height: S, role: 'img', class: 'course-live-arrows'}, root);
    var title = svgEl('title', {id: uid + '-title'}, svg);
    svg.setAttribute('aria-labelledby', uid + '-title');
    var status = el('p', {class: 'course-live-status', role: 'status', 'aria-live': 'polite'}, root, '');
    var pending = null;

    function schedule() {
      if (pending) clearTimeout(pending);
      pending = setTimeout(function () { pending = null; redraw(); }, 30);
    }

    function redraw() {
      var gamma = g.value(), E = e.value(), sd = Math.max(0, Math.floor(Number(seed.value) || 0));
      var t0 = (window.performance || Date).now();
      var run = T.train({n: cfg.n, m: 2, gamma: gamma, alpha: cfg.alpha, E: E, batch: cfg.batch, steps: cfg.steps,
                         warmup: cfg.warmup, seed: sd, testSamples: 2000, gramSize: cfg.n});
      var ms = (window.performance || Date).now() - t0;
      var W = run.W, st = T.statistics(W, 2), n = cfg.n, i, scale = 1.25;
      for (i = 0; i < n; i++) scale = Math.max(scale, st.norms[i] * 1.1);
      while (svg.childNodes.length > 1) svg.removeChild(svg.lastChild);
      svgEl('rect', {x: 0, y: 0, width: S, height: S, fill: '#fff'}, svg);
      svgEl('circle', {cx: C, cy: C, r: R / scale, fill: 'none', stroke: '#777', 'stroke-dasharray': '3 3'}, svg);
      svgEl('line', {x1: C - R, y1: C, x2: C + R, y2: C, stroke: '#ccc'}, svg);
      svgEl('line', {x1: C, y1: C - R, x2: C, y2: C + R, stroke: '#ccc'}, svg);
      var parts = [];
      for (i = 0; i < n; i++) {
        var nx = W[2 * i] / scale, ny = W[2 * i + 1] / scale, norm = st.norms[i];
        var x = C + R * nx, y = C - R * ny, color = norm > 0.5 ? COLORS[i % COLORS.length] : '#999';
        var angle = Math.atan2(W[2 * i + 1], W[2 * i]) * 180 / Math.PI;
        parts.push('feature ' + (i + 1) + ' length ' + norm.toFixed(2) + (norm > 0.05 ? ' at ' + Math.round((angle + 360) % 360) + '°' : ''));
        if (norm * R / scale < 2) continue;
        svgEl('line', {x1: C, y1: C, x2: x, y2: y, stroke: color, 'stroke-width': 2.5}, svg);
        var a = Math.atan2(y - C, x - C), hl = 9;
        svgEl('polygon', {points: [x, y, x - hl * Math.cos(a - 0.4), y - hl * Math.sin(a - 0.4),
                                   x - hl * Math.cos(a + 0.4), y - hl * Math.sin(a + 0.4)].join(' '), fill: color}, svg);
        var lab = svgEl('text', {x: C + (R * nx) * 1 + 12 * Math.cos(a), y: C - (R * ny) + 12 * Math.sin(a) + 4,
                                 'text-anchor': 'middle', 'font-size': 13, fill: '#111'}, svg);
        lab.textContent = String(i + 1);
      }
      var kept = Math.round(st.phi_half * n);
      title.textContent = 'The ' + n + ' rows of W as arrows in the plane (n = ' + n + ', m = 2), trained in your browser ' +
        'for gamma = ' + gamma + ' and E = ' + E + ', seed ' + sd + ': ' + kept + ' of ' + n + ' rows are longer than 1/2; ' +
        parts.join('; ') + '. The dotted circle has radius 1.';
      status.textContent = 'gamma = ' + gamma + ', E = ' + E + ': ' + kept + ' of ' + n + ' features kept (row longer than 1/2), ' +
        'loss ' + fmt(run.final) + '; trained ' + cfg.steps + ' steps in ' + Math.round(ms) + ' ms.';
      root.dataset.phiHalf = st.phi_half;
      root.dataset.finalLoss = run.final;
      root.dataset.ms = Math.round(ms);
      root.dataset.frame = gamma + '|' + E + '|' + sd;
    }
    redraw();
  }

  // ---------------------------------------------------------------- mounting
  function mount(root) {
    if (root.dataset.mounted) return;
    root.dataset.mounted = '1';
    var cfg = JSON.parse(root.getAttribute('data-config') || '{}');
    var msg = root.querySelector('.course-live-message');
    if (msg) msg.parentNode.removeChild(msg);
    if (root.getAttribute('data-live') === 'arrows') mountArrows(root, cfg);
    else mountTrainer(root, cfg);
  }

  function mountAll() {
    addStyle();
    Array.prototype.forEach.call(document.querySelectorAll('.course-live[data-live]'), mount);
  }

  window.CourseLive = {mount: mount, mountAll: mountAll, startTraining: startTraining};
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mountAll);
  else mountAll();
})();
