/* The paper's toy model, trained in plain JavaScript: sampler, forward pass, exact gradients,
 * AdamW with signed weight decay, the warm-up + cosine schedule, and the row statistics.
 *
 * The same definitions as the course's Python package `utils` (data.power_law and the sparse
 * sampler, models.init_params, train.loss_and_grads, optim.signed_weight_decay_ and AdamState,
 * optim.paper_lr, metrics.phi_half / phi_one / overlap_stats), checked against it by
 * tests/test_live_trainer.py. Everything is computed in float64.
 *
 * One factory function holds the whole library, so that the page can start a Web Worker from
 * its source text (a Blob URL, which works on http:// and, in Chromium, on file:// too) and Node
 * can `require` this file for the tests. No dependencies, nothing fetched.
 *
 *   x_i = s_i u_i,  s_i ~ Bernoulli(p_i),  u_i ~ Uniform(0, 2),  p_i ∝ i^-alpha,  sum p = E
 *   y = ReLU(W W^T x + b),  L = mean over batch and features of (y - x)^2  (PyTorch's MSELoss)
 */
(function (root, factory) {
  'use strict';
  var api = factory();
  api.workerSource = '(' + factory.toString() + ')().serveWorker(self);';
  if (typeof module === 'object' && module.exports) {
    module.exports = api;
  } else {
    root.ToyTrainer = api;
  }
})(typeof self !== 'undefined' ? self : this, function toyTrainerFactory() {
  'use strict';

  var BETA1 = 0.9, BETA2 = 0.999, EPS = 1e-8;
  var LIMITS = {n: [2, 400], m: [1, 399], steps: [1, 20000], batch: [1, 4096]};

  // ---------------------------------------------------------------- checks
  function fail(name, allowed, value) {
    throw new RangeError(name + ' must be ' + allowed + ', got ' + value);
  }

  function intIn(name, value, lo, hi) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi) {
      fail(name, 'an integer in [' + lo + ', ' + hi + ']', value);
    }
    return value;
  }

  function finite(name, value, lo, hi) {
    if (typeof value !== 'number' || !isFinite(value) || (lo !== undefined && value < lo) ||
        (hi !== undefined && value > hi)) {
      fail(name, 'a finite number' + (lo !== undefined ? ' in [' + lo + ', ' + (hi === undefined ? 'inf' : hi) + ']' : ''),
           value);
    }
    return value;
  }

  // ---------------------------------------------------------------- random numbers
  /** A seeded generator (sfc32, seeded through splitmix32): uniform doubles, normals, 32-bit words. */
  function rng(seed) {
    finite('seed', seed);
    var s = (seed >>> 0) ^ Math.floor(seed / 4294967296);
    function splitmix() {
      s = (s + 0x9e3779b9) | 0;
      var z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    }
    var a = splitmix(), b = splitmix(), c = splitmix(), d = splitmix();
    function next() {
      var t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      return t >>> 0;
    }
    for (var i = 0; i < 12; i++) next();
    var spare = null;
    return {
      next: next,
      /** Uniform on [0, 1) with 53 random bits. */
      uniform: function () {
        return ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
      },
      /** Standard normal (Box-Muller, both values used). */
      normal: function () {
        if (spare !== null) { var v = spare; spare = null; return v; }
        var u1 = 0;
        while (u1 === 0) u1 = this.uniform();
        var u2 = this.uniform(), r = Math.sqrt(-2 * Math.log(u1));
        spare = r * Math.sin(2 * Math.PI * u2);
        return r * Math.cos(2 * Math.PI * u2);
      },
    };
  }

  // ---------------------------------------------------------------- data
  /** Frequencies p_i ∝ i^-alpha (i = 1..n) scaled to sum E; an error when that makes p_1 > 1. */
  function powerLaw(n, alpha, E) {
    intIn('n', n, 1, 1e7);
    finite('alpha', alpha, 0);
    finite('E', E, 0);
    if (E <= 0) fail('E', 'positive', E);
    var p = new Float64Array(n), total = 0;
    for (var i = 0; i < n; i++) { p[i] = Math.pow(i + 1, -alpha); total += p[i]; }
    for (i = 0; i < n; i++) p[i] = p[i] / total * E;
    if (p[0] > 1 + 1e-6) {
      fail('E', 'at most ' + total.toPrecision(4) + ' for n = ' + n + ', alpha = ' + alpha +
           ' (larger E makes p_1 = ' + p[0].toPrecision(3) + ' > 1, not a probability)', E);
    }
    for (i = 0; i < n; i++) p[i] = Math.min(p[i], 1);
    return p;
  }

  /** The largest density E a power law over n features allows (p_1 = 1). */
  function maxDensity(n, alpha) {
    var total = 0;
    for (var i = 0; i < n; i++) total += Math.pow(i + 1, -alpha);
    return total;
  }

  /** A batch of B samples, grouped by sample: entries start[s] .. start[s+1]-1 of (col, val) are x_s's
   * active features. Drawn feature by feature with geometric gaps between active samples, so the cost
   * is about B E + n draws, the same distribution as B n Bernoulli draws. */
  function sampleBatch(p, B, r) {
    var n = p.length, rows = [], cols = [], vals = [];
    for (var i = 0; i < n; i++) {
      var q = p[i];
      if (q <= 0) continue;
      var logq = q >= 1 ? 0 : Math.log1p(-q), pos = -1;
      for (;;) {
        pos += q >= 1 ? 1 : Math.floor(Math.log1p(-r.uniform()) / logq) + 1;
        if (pos >= B) break;
        rows.push(pos); cols.push(i); vals.push(2 * r.uniform());
      }
    }
    return groupBySample(rows, cols, vals, B, n);
  }

  function groupBySample(rows, cols, vals, B, n) {
    var K = rows.length, start = new Int32Array(B + 1), col = new Int32Array(K), val = new Float64Array(K);
    for (var k = 0; k < K; k++) start[rows[k] + 1]++;
    for (var s = 0; s < B; s++) start[s + 1] += start[s];
    var fill = start.slice(0, B);
    for (k = 0; k < K; k++) {
      var at = fill[rows[k]]++;
      col[at] = cols[k]; val[at] = vals[k];
    }
    return {B: B, n: n, start: start, col: col, val: val};
  }

  /** The same batch structure from a dense (B x n) matrix given row by row (tests pass utils' batches). */
  function batchFromDense(x, B, n) {
    var rows = [], cols = [], vals = [];
    for (var s = 0; s < B; s++) {
      for (var i = 0; i < n; i++) {
        var v = x[s * n + i];
        if (v !== 0) { rows.push(s); cols.push(i); vals.push(v); }
      }
    }
    return groupBySample(rows, cols, vals, B, n);
  }

  // ---------------------------------------------------------------- model
  /** The paper's initialisation: W_ij ~ N(0, 1/m) (n x m, row-major), b_i ~ N(0, 1). */
  function initParams(n, m, r) {
    var W = new Float64Array(n * m), b = new Float64Array(n), scale = 1 / Math.sqrt(m);
    for (var k = 0; k < n * m; k++) W[k] = r.normal() * scale;
    for (var i = 0; i < n; i++) b[i] = r.normal();
    return {W: W, b: b};
  }

  /** MSE loss (mean over batch and features) on one batch and, unless lossOnly, its exact gradients.
   *
   * Per sample s: h = W^T x_s, z = W h + b, y = ReLU(z); with G = dL/dz = 2 (y - x) / (B n) where z > 0,
   * dL/db = sum_s G_s and dL/dW = sum_s [x_s (W^T G_s)^T + G_s h^T]. Samples with no active feature all
   * have z = b: they are counted once and weighted by how many there are. */
  function lossAndGrads(W, b, m, batch, lossOnly, work) {
    var n = batch.n, B = batch.B, start = batch.start, col = batch.col, val = batch.val;
    work = work || {};
    if (!work.gW || work.gW.length !== n * m) {
      work.gW = new Float64Array(n * m); work.gb = new Float64Array(n);
      work.h = new Float64Array(m); work.gh = new Float64Array(m); work.x = new Float64Array(n);
    }
    var gW = work.gW, gb = work.gb, h = work.h, gh = work.gh, x = work.x;
    if (!lossOnly) { gW.fill(0); gb.fill(0); }
    var loss = 0, idle = 0, i, j, k, l;
    for (var s = 0; s < B; s++) if (start[s + 1] === start[s]) idle++;
    if (idle > 0) {
      for (i = 0; i < n; i++) {
        var y0 = b[i] > 0 ? b[i] : 0;
        loss += idle * y0 * y0;
        if (!lossOnly) gb[i] += idle * y0;
      }
    }
    for (s = 0; s < B; s++) {
      var a = start[s], e = start[s + 1];
      if (a === e) continue;
      for (l = 0; l < m; l++) { h[l] = 0; gh[l] = 0; }
      for (k = a; k < e; k++) {
        var v = val[k], row = col[k] * m;
        x[col[k]] = v;
        for (l = 0; l < m; l++) h[l] += v * W[row + l];
      }
      for (j = 0; j < n; j++) {
        var z = b[j], rj = j * m;
        for (l = 0; l < m; l++) z += W[rj + l] * h[l];
        var y = z > 0 ? z : 0;                 // the ReLU
        var d = y - x[j];
        loss += d * d;
        if (lossOnly || !(z > 0) || d === 0) continue;  // ReLU'(z) = 0 for z <= 0, as in torch
        gb[j] += d;
        for (l = 0; l < m; l++) { gh[l] += d * W[rj + l]; gW[rj + l] += d * h[l]; }
      }
      for (k = a; k < e; k++) {
        x[col[k]] = 0;
        if (lossOnly) continue;
        var rk = col[k] * m, vk = val[k];
        for (l = 0; l < m; l++) gW[rk + l] += vk * gh[l];
      }
    }
    var scale = 2 / (B * n);
    if (!lossOnly) {
      for (k = 0; k < n * m; k++) gW[k] *= scale;
      for (i = 0; i < n; i++) gb[i] *= scale;
    }
    return {loss: loss / (B * n), gW: lossOnly ? null : gW, gb: lossOnly ? null : gb};
  }

  // ---------------------------------------------------------------- optimiser
  /** Learning rate at 0-based step: linear warm-up to `peak`, then cosine decay to finalFraction * peak. */
  function paperLr(step, steps, peak, warmup, finalFraction) {
    var s = step + 1, low = finalFraction * peak;
    if (warmup < steps) {
      if (s < warmup) return peak * s / warmup;
      return low + (peak - low) * 0.5 * (1 + Math.cos(Math.PI * (s - warmup) / (steps - warmup)));
    }
    return low + (peak - low) * 0.5 * (1 + Math.cos(Math.PI * s / steps));
  }

  /** The paper's signed decay, in place: gamma >= 0 scales every row by 1 - lr gamma; gamma < 0 moves
   * each row toward unit norm, W_i += lr gamma W_i (1 - 1 / ||W_i||). */
  function signedDecay(W, m, gamma, lr) {
    var n = W.length / m;
    for (var i = 0; i < n; i++) {
      var f, r = i * m, l;
      if (gamma >= 0) {
        f = 1 - lr * gamma;
      } else {
        var sq = 0;
        for (l = 0; l < m; l++) sq += W[r + l] * W[r + l];
        f = 1 + lr * gamma * (1 - 1 / (Math.sqrt(sq) + EPS));
      }
      for (l = 0; l < m; l++) W[r + l] *= f;
    }
  }

  /** Adam's moments for a list of parameter arrays. */
  function adamState(params) {
    return {t: 0, m1: params.map(function (p) { return new Float64Array(p.length); }),
            m2: params.map(function (p) { return new Float64Array(p.length); })};
  }

  /** One bias-corrected Adam step on every parameter (in place). */
  function adamUpdate(state, params, grads, lr) {
    state.t += 1;
    var bc1 = 1 - Math.pow(BETA1, state.t), sbc2 = Math.sqrt(1 - Math.pow(BETA2, state.t));
    for (var q = 0; q < params.length; q++) {
      var p = params[q], g = grads[q], m1 = state.m1[q], m2 = state.m2[q];
      for (var k = 0; k < p.length; k++) {
        m1[k] = BETA1 * m1[k] + (1 - BETA1) * g[k];
        m2[k] = BETA2 * m2[k] + (1 - BETA2) * g[k] * g[k];
        p[k] -= lr / bc1 * m1[k] / (Math.sqrt(m2[k]) / sbc2 + EPS);
      }
    }
  }

  /** One optimiser step as utils does it: the signed decay on W (from the weights before this step's
   * Adam update), then Adam on W and b; the bias is never decayed. */
  function optimiserStep(W, b, gW, gb, m, gamma, lr, state) {
    signedDecay(W, m, gamma, lr);
    adamUpdate(state, [W, b], [gW, gb], lr);
  }

  // ---------------------------------------------------------------- statistics
  function rowNorms(W, m) {
    var n = W.length / m, out = new Float64Array(n);
    for (var i = 0; i < n; i++) {
      var sq = 0;
      for (var l = 0; l < m; l++) sq += W[i * m + l] * W[i * m + l];
      out[i] = Math.sqrt(sq);
    }
    return out;
  }

  /** phi_half (norm > 1/2), phi_one (norm > 1, the paper's Eq. 15) and msq_strong, the mean squared
   * cosine over pairs of rows with norm > 1 (the paper's Fig. 5d; null with fewer than two such rows). */
  function statistics(W, m) {
    var norms = rowNorms(W, m), n = norms.length, half = 0, strong = [];
    for (var i = 0; i < n; i++) {
      if (norms[i] > 0.5) half++;
      if (norms[i] > 1) strong.push(i);
    }
    var sum = 0, pairs = 0;
    for (var a = 0; a < strong.length; a++) {
      for (var c = a + 1; c < strong.length; c++) {
        var ia = strong[a] * m, ic = strong[c] * m, dot = 0;
        for (var l = 0; l < m; l++) dot += W[ia + l] * W[ic + l];
        var cos = dot / (norms[strong[a]] * norms[strong[c]]);
        sum += cos * cos; pairs++;
      }
    }
    var msq = pairs ? sum / pairs : null;
    return {phi_half: half / n, phi_one: strong.length / n, n_strong: strong.length, msq_strong: msq,
            m_msq_strong: msq === null ? null : m * msq, norms: norms};
  }

  /** W W^T of the first k features (row-major k x k). */
  function gram(W, m, k) {
    var out = new Float64Array(k * k);
    for (var i = 0; i < k; i++) {
      for (var j = 0; j <= i; j++) {
        var dot = 0;
        for (var l = 0; l < m; l++) dot += W[i * m + l] * W[j * m + l];
        out[i * k + j] = out[j * k + i] = dot;
      }
    }
    return out;
  }

  /** The loss on `samples` fresh samples (drawn in batches of 1,000 from generator r). */
  function testLoss(W, b, m, p, samples, r) {
    var total = 0, done = 0, work = {};
    while (done < samples) {
      var B = Math.min(1000, samples - done);
      total += lossAndGrads(W, b, m, sampleBatch(p, B, r), true, work).loss * B;
      done += B;
    }
    return total / samples;
  }

  // ---------------------------------------------------------------- a training run
  var DEFAULTS = {n: 200, m: 20, gamma: -1, alpha: 1, E: 1, steps: 1500, batch: 256, lr: 1e-2,
                  warmup: null, finalFraction: 0.05, seed: 0, testSamples: 10000, gramSize: 50};

  /** Settings with defaults filled in and checked; warmup defaults to 10% of the steps. */
  function settings(cfg) {
    var c = {}, key;
    for (key in DEFAULTS) c[key] = DEFAULTS[key];
    for (key in cfg || {}) {
      if (!(key in DEFAULTS)) fail('setting ' + JSON.stringify(key), 'one of ' + Object.keys(DEFAULTS).join(', '), key);
      if (cfg[key] !== undefined) c[key] = cfg[key];
    }
    intIn('n', c.n, LIMITS.n[0], LIMITS.n[1]);
    intIn('m', c.m, 1, c.n - 1);
    intIn('steps', c.steps, LIMITS.steps[0], LIMITS.steps[1]);
    intIn('batch', c.batch, LIMITS.batch[0], LIMITS.batch[1]);
    finite('gamma', c.gamma, -10, 10);
    finite('alpha', c.alpha, 0, 10);
    finite('lr', c.lr, 0);
    finite('finalFraction', c.finalFraction, 0, 1);
    finite('seed', c.seed);
    if (c.warmup === null) c.warmup = Math.round(c.steps / 10);
    intIn('warmup', c.warmup, 0, 1e9);
    intIn('testSamples', c.testSamples, 0, 1e6);
    c.gramSize = Math.min(c.n, intIn('gramSize', c.gramSize, 1, 400));
    return c;
  }

  /** A training run advanced a piece at a time (so a page or a worker can draw in between). */
  function createRun(cfg) {
    var c = settings(cfg);
    var p = powerLaw(c.n, c.alpha, c.E);
    var r = rng(c.seed);
    var params = initParams(c.n, c.m, r);
    var state = adamState([params.W, params.b]);
    var losses = new Float64Array(c.steps), work = {};
    var run = {config: c, p: p, W: params.W, b: params.b, step: 0, losses: losses, final: null, seconds: 0};

    /** One step of the schedule: sample, gradients, signed decay, Adam. */
    run.stepOnce = function () {
      var batch = sampleBatch(p, c.batch, r);
      var g = lossAndGrads(run.W, run.b, c.m, batch, false, work);
      var lr = paperLr(run.step, c.steps, c.lr, c.warmup, c.finalFraction);
      optimiserStep(run.W, run.b, g.gW, g.gb, c.m, c.gamma, lr, state);
      losses[run.step] = g.loss;
      run.step += 1;
    };
    /** Steps until `ms` milliseconds have passed or the run is done; true when done. */
    run.advance = function (ms) {
      var t0 = Date.now();
      while (run.step < c.steps) {
        run.stepOnce();
        if (Date.now() - t0 >= ms) break;
      }
      run.seconds += (Date.now() - t0) / 1000;
      return run.step >= c.steps;
    };
    /** The loss on fresh samples (a generator of its own, so training's stream is untouched). */
    run.finish = function () {
      run.final = c.testSamples ? testLoss(run.W, run.b, c.m, p, c.testSamples, rng(c.seed + 7777777)) : null;
      return run.final;
    };
    /** What a picture needs: losses so far, row norms, statistics, W W^T of the first features. */
    run.snapshot = function () {
      var st = statistics(run.W, c.m);
      return {step: run.step, steps: c.steps, losses: losses.slice(0, run.step), norms: st.norms,
              phi_half: st.phi_half, phi_one: st.phi_one, n_strong: st.n_strong, msq_strong: st.msq_strong,
              m_msq_strong: st.m_msq_strong, gram: gram(run.W, c.m, c.gramSize), gramSize: c.gramSize,
              final_loss: run.final, seconds: run.seconds,
              ms_per_step: run.step ? 1000 * run.seconds / run.step : null,
              W: run.W.slice(), b: run.b.slice(), n: c.n, m: c.m};
    };
    return run;
  }

  /** Train to the end in one go (Node, tests, and the 2-D picture). */
  function train(cfg) {
    var run = createRun(cfg);
    while (!run.advance(1e9)) { /* all steps */ }
    run.finish();
    return run;
  }

  // ---------------------------------------------------------------- the worker side
  /** Answer {type: 'start', config, frameMs} with 'frame' messages every frameMs and one 'done';
   * {type: 'stop'} ends the run at the next frame. */
  function serveWorker(scope) {
    var current = null;
    scope.onmessage = function (ev) {
      var msg = ev.data || {};
      if (msg.type === 'stop') { if (current) current.stop = true; return; }
      if (msg.type !== 'start') return;
      var job = {stop: false};
      current = job;
      try {
        job.run = createRun(msg.config);
      } catch (err) {
        scope.postMessage({type: 'error', message: err.message});
        return;
      }
      var frameMs = msg.frameMs || 200;
      (function tick() {
        if (current !== job) return;
        var done = job.run.advance(frameMs);
        if (done || job.stop) {
          if (done) job.run.finish();
          var snap = job.run.snapshot();
          snap.stopped = !done;
          scope.postMessage({type: 'done', snapshot: snap});
          current = null;
          return;
        }
        scope.postMessage({type: 'frame', snapshot: job.run.snapshot()});
        setTimeout(tick, 0);
      })();
    };
  }

  return {rng: rng, powerLaw: powerLaw, maxDensity: maxDensity, sampleBatch: sampleBatch,
          batchFromDense: batchFromDense, initParams: initParams, lossAndGrads: lossAndGrads,
          paperLr: paperLr, signedDecay: signedDecay, adamState: adamState, adamUpdate: adamUpdate,
          optimiserStep: optimiserStep, rowNorms: rowNorms, statistics: statistics, gram: gram,
          testLoss: testLoss, settings: settings, createRun: createRun, train: train,
          serveWorker: serveWorker, DEFAULTS: DEFAULTS, LIMITS: LIMITS};
});
