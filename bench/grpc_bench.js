// grpc_bench.js: regnotifyd's gRPC endpoint driven by Google's official Node
// client (@google-cloud/pubsub, from tests/google/node_modules), for
// bench/run_bench.sh (rows rn.grpc.*). PUBSUB_EMULATOR_HOST=127.0.0.1:PORT
// points the library at the broker (gRPC on the REST port, h2c);
// METADATA_SERVER_DETECTION=none keeps it from probing 169.254.169.254.
//
//   node bench/grpc_bench.js pub   [--n 200000] [--batch 1000] [--batch-ms 10] [--window 20000]
//       topic.publishMessage of N messages of SIZE bytes through the library's
//       batching (maxMessages BATCH, maxMilliseconds BATCH_MS), at most WINDOW
//       messages not yet resolved (so 20 Publish calls of 1000 in flight);
//       an untimed warm-up of WARMUP messages first. msgs/s from the first
//       publishMessage until the last promise resolved.
//   node bench/grpc_bench.js drain [--n 100000]
//                                  [--flow M] [--ack-ms MS] [--ack-max K] [--streams S]
//       N messages pre-filled through the library (untimed), then
//       subscription.on('message') acks each (m.ack(); the library's
//       defaults: 5 streams, flowControl 1000 messages, acks and receipt
//       modacks batched <= 100 ms or 3000; --flow sets flowControl
//       maxMessages, --ack-ms/--ack-max the ack batching, --streams
//       streamingOptions.maxStreams; e2e takes them too).
//       msgs_s: from on('message') until the N-th distinct message was
//       received; msgs_s_warm: the natsgo anchor's method (from the
//       WARM-th message, WARM = min(5000, N/10), to the N-th). Then the
//       subscriber is closed (its last acks flushed) and one unary Pull
//       (returnImmediately) checks that nothing is left.
//   node bench/grpc_bench.js e2e   [--n 50000] [--rate 5000] [--procs 2]
//                                  [--batch 100 --batch-ms 1 | --batch 1]
//       Open-loop publisher at RATE msgs/s (WARMUP + N messages, the first
//       WARMUP left out of the statistics, as the natsgo anchor): each
//       message is publishMessage'd at its due time with its process.hrtime
//       (CLOCK_MONOTONIC, so comparable across processes) and index in the
//       first 16 bytes of the data, and goes out with the library's batching
//       (BATCH, BATCH_MS: the batching delay is part of the latency; --batch
//       1 sends each at once, one Publish call per message, which costs the
//       Node client ~0.2-0.3 ms of CPU per call: about 4k calls/s is all
//       one process manages); on('message') records now - stamp and acks.
//       --procs 2 (default): the publisher is a child
//       process (fork), as a publishing service and a subscribing one
//       would be; --procs 1: both in this process. Pacing: absolute due
//       times, a sub-millisecond wait is Atomics.wait (setTimeout cannot
//       sleep less than 1 ms), longer ones setTimeout; the stamp is the
//       actual send time (as natsgo and rnbench e2e), schedlag = send - due.
//
// Common: --project P, --size 300, --warmup W, --deadline-s 150,
// --pids broker:PID,redis:PID and --hz CLK_TCK: CPU of those processes over
// the timed window (utime+stime from /proc/PID/stat) as NAME_cpu_pct (% of
// one core) and NAME_us_per_msg, with this process's own (process.cpuUsage)
// as node_cpu_pct / node_us_per_msg, and its GC pauses over the window as
// node_gc_n / _gc_ms (total) / _gc_max_ms (e2e --procs 2: pubnode_* for the
// publisher process). Output: one "key=value ..." line on stdout; exit 1 on
// a loss, duplicate, error or deadline. 127.0.0.1 only (the caller's
// PUBSUB_EMULATOR_HOST); every wait is bounded.
'use strict';
const fs = require('fs');
const path = require('path');
const {fork} = require('child_process');

// The packages come from tests/google/node_modules (npm ci there), or from
// GRPC_BENCH_NODE_DIR (a directory whose node_modules holds them).
function load(name) {
  const dirs = [process.env.GRPC_BENCH_NODE_DIR, path.join(__dirname, '..', 'tests', 'google')]
    .filter(Boolean);
  return require(require.resolve(name, {paths: dirs}));
}
const {PubSub, v1} = load('@google-cloud/pubsub');
const grpcJs = load('@grpc/grpc-js');

// ------------------------------------------------------------------ options
const mode = process.argv[2];
const opt = {project: 'benchproj', size: 300, warmup: -1, 'deadline-s': 150, hz: 100,
  batch: 1000, 'batch-ms': 10, window: 20000, rate: 5000, procs: 2, pids: '', n: 0,
  topic: '', sub: '', flow: 0, 'ack-ms': 0, 'ack-max': 0, streams: 0};
const given = new Set();
for (let i = 3; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, '');
  if (!(k in opt)) die(`unknown option --${k}`);
  const v = process.argv[i + 1];
  opt[k] = typeof opt[k] === 'number' ? Number(v) : v;
  given.add(k);
}
if (mode === 'e2e') {   // e2e publishes with a short batching delay unless told
  if (!given.has('batch')) opt.batch = 100;
  if (!given.has('batch-ms')) opt['batch-ms'] = 1;
}
const host = process.env.PUBSUB_EMULATOR_HOST || '';
if (!/^127\.0\.0\.1:\d+$/.test(host)) die('PUBSUB_EMULATOR_HOST must be 127.0.0.1:PORT');
if (process.env.METADATA_SERVER_DETECTION !== 'none') die('set METADATA_SERVER_DETECTION=none');

function die(msg) {
  if (process.send) process.send({error: msg});
  console.error('grpc_bench: ' + msg);
  process.exit(1);
}
const hr = () => process.hrtime.bigint();          // ns, CLOCK_MONOTONIC
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const within = (ms, p, what) => Promise.race([p, sleep(ms).then(() => die(`deadline: ${what}`))]);
const uniq = (p) => `${p}-${process.pid}-${Date.now().toString(36)}`;

// ---------------------------------------------------------------- CPU time
function pidTicks(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);   // utime stime (fields 14, 15)
  } catch (e) {
    return NaN;
  }
}
const pidList = opt.pids ? opt.pids.split(',').map((x) => x.split(':')) : [];
function cpuMark() {
  return {t: hr(), self: process.cpuUsage(), p: pidList.map(([, pid]) => pidTicks(pid)),
    gc: performance.now()};
}
// "node_cpu_pct=.. node_us_per_msg=.. broker_cpu_pct=.. ..." since mark m
function cpuSince(m, msgs, selfName = 'node') {
  const el = Number(hr() - m.t) / 1e9;
  const u = process.cpuUsage(m.self);
  const self = (u.user + u.system) / 1e6;
  // GC since the mark: pauses, their total and the longest (ms)
  const [gn, gms, gmax] = gcSince(m.gc);
  const out = [cpuKeys(selfName, self, el, msgs),
    `${selfName}_user_pct=${(u.user / 1e6 / el * 100).toFixed(0)}`,
    `${selfName}_gc_n=${gn} ${selfName}_gc_ms=${gms.toFixed(1)} ${selfName}_gc_max_ms=${gmax.toFixed(2)}`];
  pidList.forEach(([name, pid], i) => out.push(cpuKeys(name, (pidTicks(pid) - m.p[i]) / opt.hz, el, msgs)));
  return out.join(' ');
}
function cpuKeys(name, secs, el, msgs) {
  return `${name}_cpu_pct=${(secs / el * 100).toFixed(0)} ${name}_us_per_msg=${(secs / msgs * 1e6).toFixed(2)}`;
}

function pct(name, arr) {   // arr: Float64Array of ns
  if (!arr.length) return `${name}_p50_us=nan ${name}_p99_us=nan ${name}_p999_us=nan ${name}_max_us=nan`;
  const s = Float64Array.from(arr).sort();
  const p = (q) => s[Math.min(s.length - 1, Math.floor(s.length * q))] / 1e3;
  return `${name}_p50_us=${p(0.5).toFixed(1)} ${name}_p99_us=${p(0.99).toFixed(1)} ` +
    `${name}_p999_us=${p(0.999).toFixed(1)} ${name}_max_us=${(s[s.length - 1] / 1e3).toFixed(1)}`;
}

// Garbage-collection pauses of this process (V8's 'gc' performance entries).
const {performance, PerformanceObserver} = require('perf_hooks');
const gcPauses = [];   // [startTime ms, duration ms]
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcPauses.push([e.startTime, e.duration]);
}).observe({entryTypes: ['gc']});
function gcSince(t0) {   // "pauses total_ms max_ms" of the GC that began after t0
  let n = 0, ms = 0, max = 0;
  for (const [t, d] of gcPauses) {
    if (t < t0) continue;
    n++;
    ms += d;
    if (d > max) max = d;
  }
  return [n, ms, max];
}

// Wall-clock µs (for the split at the broker's publishTime, which is ms).
const wallUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

// SIZE bytes: [0,8) send time (hrtime ns), [8,16) index, [16,24) send time
// (wall-clock µs), rest 'x'
function payload(i, stamp) {
  const b = Buffer.alloc(opt.size, 'x');
  b.writeBigUInt64BE(stamp, 0);
  b.writeBigUInt64BE(BigInt(i), 8);
  if (opt.size >= 24) b.writeBigUInt64BE(BigInt(wallUs()), 16);
  return b;
}

// Subscriber options: the library's defaults unless --flow (flowControl
// maxMessages), --ack-ms / --ack-max (the ack and modack batching) or
// --streams (streamingOptions.maxStreams) are given.
function subOptions() {
  const o = {};
  if (opt.flow) o.flowControl = {maxMessages: opt.flow};
  if (opt['ack-ms'] || opt['ack-max']) {
    o.batching = {};
    if (opt['ack-ms']) o.batching.maxMilliseconds = opt['ack-ms'];
    if (opt['ack-max']) o.batching.maxMessages = opt['ack-max'];
  }
  if (opt.streams) o.streamingOptions = {maxStreams: opt.streams};
  return o;
}
const subDesc = () => `flow=${opt.flow || 'default'} ack_ms=${opt['ack-ms'] || 'default'} ` +
  `ack_max=${opt['ack-max'] || 'default'} streams=${opt.streams || 'default'}`;

async function setup(ps, prefix) {
  const [topic] = await ps.createTopic(opt.topic || uniq(prefix + '-t'));
  const [sub] = await topic.createSubscription(opt.sub || uniq(prefix + '-s'), {ackDeadlineSeconds: 600});
  return [topic, sub];
}

// publish cnt messages through `topic` (its batching), at most `window`
// unresolved; returns the number of errors.
async function publishMany(topic, cnt, window, mk) {
  let done = 0, errors = 0, wake = null, i = 0;
  const settle = () => {
    done++;
    if (wake && i - done < window) { const w = wake; wake = null; w(); }
  };
  for (; i < cnt; i++) {
    topic.publishMessage({data: mk(i)}).then(settle, (e) => {
      if (errors++ === 0) console.error('publish error:', e.code, e.message);
      settle();
    });
    if (i + 1 - done >= window) await new Promise((r) => { wake = r; });
  }
  while (done < cnt) await new Promise((r) => { wake = r; });   // i = cnt: every settle wakes
  return errors;
}

// ----------------------------------------------------------------------- pub
async function doPub(ps) {
  const n = opt.n || 200000;
  const warm = opt.warmup >= 0 ? opt.warmup : 10000;
  const [t0] = await setup(ps, 'gpub');
  const topic = ps.topic(t0.name, {batching: {maxMessages: opt.batch, maxMilliseconds: opt['batch-ms']}});
  const body = Buffer.alloc(opt.size, 'x');
  if (warm) await publishMany(topic, warm, opt.window, () => body);
  const m = cpuMark();
  const errors = await publishMany(topic, n, opt.window, () => body);
  const secs = Number(hr() - m.t) / 1e9;
  const cpu = cpuSince(m, n);
  console.log(`grpc_pub n=${n} size=${opt.size} batch=${opt.batch} batch_ms=${opt['batch-ms']} ` +
    `window=${opt.window} warmup=${warm} pub_errors=${errors} secs=${secs.toFixed(3)} ` +
    `msgs_s=${(n / secs).toFixed(0)} ${cpu}`);
  return errors === 0;
}

// --------------------------------------------------------------------- drain
async function doDrain(ps) {
  const n = opt.n || 100000;
  const warm = Math.min(5000, Math.floor(n / 10));
  const [t0, s0] = await setup(ps, 'gdrain');
  const topic = ps.topic(t0.name, {batching: {maxMessages: 1000, maxMilliseconds: 10}});
  const f0 = hr();
  const fillErrors = await publishMany(topic, n, 20000, (i) => payload(i, 0n));
  const fillSecs = Number(hr() - f0) / 1e9;
  if (fillErrors) die(`fill: ${fillErrors} publish errors`);
  await sleep(200);

  const seen = new Uint8Array(n);
  let got = 0, dups = 0, bad = 0, tWarm = 0n, tEnd = 0n, mWarm = null, cpuAll = '', cpuWarm = '';
  const sub = ps.subscription(s0.name, subOptions());
  const m = cpuMark();
  await within(opt['deadline-s'] * 1000, new Promise((resolve) => {
    sub.on('error', (e) => die(`subscriber error ${e.code} ${e.message}`));
    sub.on('message', (msg) => {
      msg.ack();
      const idx = msg.data.length >= 16 ? Number(msg.data.readBigUInt64BE(8)) : -1;
      if (idx < 0 || idx >= n) { bad++; return; }
      if (seen[idx]) { dups++; return; }
      seen[idx] = 1;
      if (++got === warm) { tWarm = hr(); mWarm = cpuMark(); }
      if (got === n) {
        tEnd = hr();
        cpuAll = cpuSince(m, n);
        cpuWarm = cpuSince(mWarm, n - warm).replace(/ node_gc_\S+/g, '')
          .replace(/(\w+)_cpu_pct/g, '$1_cpu_pct_warm')
          .replace(/(\w+)_us_per_msg/g, '$1_us_per_msg_warm').replace(/(\w+)_user_pct/g, '$1_user_pct_warm');
        resolve();
      }
    });
  }), `drain got ${got} of ${n}`);
  const secs = Number(tEnd - m.t) / 1e9;
  const secsWarm = Number(tEnd - tWarm) / 1e9;
  await within(20000, sub.close(), 'subscriber close');   // flushes the last acks
  await sleep(300);
  // Late duplicates (a redelivery after the N-th) would show here too.
  const client = new v1.SubscriberClient({servicePath: '127.0.0.1', port: Number(host.split(':')[1]),
    sslCreds: grpcJs.credentials.createInsecure()});
  const [r] = await within(20000, client.pull({subscription: s0.name, maxMessages: 1000,
    returnImmediately: true}), 'final pull');
  const leftMsgs = r.receivedMessages || [];
  const left = leftMsgs.length;
  if (left) {
    console.error('left after the drain: ' + leftMsgs.slice(0, 5).map((x) => {
      const d = x.message.data;
      return `idx=${d.length >= 16 ? Number(Buffer.from(d).readBigUInt64BE(8)) : '?'} ` +
        `id=${x.message.messageId} deliveryAttempt=${x.deliveryAttempt}`;
    }).join('; '));
  }
  await client.close();
  console.log(`grpc_drain n=${n} ${subDesc()} got=${got} dups=${dups} bad=${bad} left_after=${left} ` +
    `fill_secs=${fillSecs.toFixed(3)} fill_msgs_s=${(n / fillSecs).toFixed(0)} ` +
    `secs=${secs.toFixed(3)} msgs_s=${(n / secs).toFixed(0)} warm=${warm} ` +
    `msgs_s_warm=${((n - warm) / secsWarm).toFixed(0)} ${cpuAll} ${cpuWarm}`);
  // left_after is reported, not a failure: the library can lose an ack that
  // is queued while close() runs (docs/performance.md, gRPC section).
  return got === n && dups === 0 && bad === 0;
}

// ----------------------------------------------------------------------- e2e
// The open-loop publisher: total messages at rate/s into topicName; resolves
// with its statistics ("pub_..." keys) once every publish has resolved.
async function openLoopPublish(ps, topicName, total, warm, selfName) {
  const topic = ps.topic(topicName, {batching: {maxMessages: opt.batch, maxMilliseconds: opt['batch-ms']}});
  const interval = 1e9 / opt.rate;
  const pubLat = new Float64Array(total), lag = new Float64Array(total);
  const waitBuf = new Int32Array(new SharedArrayBuffer(4));
  let done = 0, errors = 0, m = null;
  const start = hr() + 100000000n;
  await new Promise((resolve) => {
    let i = 0;
    const tick = () => {
      for (;;) {
        if (i >= total) { resolve(); return; }
        const due = Number(start) + i * interval;
        const wait = due - Number(hr());
        if (wait > 1.5e6) { setTimeout(tick, Math.floor((wait - 1e6) / 1e6)); return; }
        if (wait > 0) Atomics.wait(waitBuf, 0, 0, wait / 1e6);
        const sent = hr();
        lag[i] = Number(sent) - due;
        if (i === warm) m = cpuMark();
        const k = i++;
        topic.publishMessage({data: payload(k, sent)}).then(
          () => { pubLat[k] = Number(hr() - sent); done++; },
          (e) => { if (errors++ === 0) console.error('publish error:', e.code, e.message); done++; });
        // let the loop read replies (and, with --procs 1, deliveries) between sends
        setImmediate(tick);
        return;
      }
    };
    tick();
  });
  const deadline = Date.now() + 20000;
  while (done < total && Date.now() < deadline) await sleep(1);
  if (done < total) die(`e2e: ${total - done} publishes never resolved`);
  return `pub_errors=${errors} ${pct('pub', pubLat.subarray(warm))} ${pct('schedlag', lag.subarray(warm))} ` +
    cpuSince(m, total - warm, selfName).replace(/ ?(broker|redis)_\S+/g, '');
}

async function doE2E(ps) {
  const n = opt.n || 50000;
  const warm = opt.warmup >= 0 ? opt.warmup : 5000;
  const total = warm + n;
  const [t0, s0] = await setup(ps, 'ge2e');
  const e2e = new Float64Array(total);
  // e2e split at the broker's publishTime (whole ms): publishMessage ->
  // publishTime ("in") and publishTime -> on('message') ("out"); each is off
  // by up to 1 ms the other way (publishTime is truncated to the ms).
  const lin = new Float64Array(total), lout = new Float64Array(total);
  const seen = new Uint8Array(total);
  let got = 0, dups = 0, bad = 0, m = null;
  const sub = ps.subscription(s0.name, subOptions());
  let allIn;
  const received = new Promise((r) => { allIn = r; });
  sub.on('error', (e) => die(`subscriber error ${e.code} ${e.message}`));
  let probe;
  const probed = new Promise((r) => { probe = r; });
  sub.on('message', (msg) => {
    const now = hr();
    msg.ack();
    if (msg.data.length < 16) { probe(); return; }   // the readiness probe
    const idx = Number(msg.data.readBigUInt64BE(8));
    if (idx < 0 || idx >= total) { bad++; return; }
    if (seen[idx]) { dups++; return; }
    seen[idx] = 1;
    e2e[idx] = Number(now - msg.data.readBigUInt64BE(0));
    if (msg.data.length >= 24) {
      const pt = msg.publishTime.getTime() * 1000, w = wallUs();
      lin[idx] = (pt - Number(msg.data.readBigUInt64BE(16))) * 1000;
      lout[idx] = (w - pt) * 1000;
    }
    if (idx === warm && !m) m = cpuMark();
    if (++got === total) allIn();
  });
  // The streams are open once a probe message comes through.
  await ps.topic(t0.name).publishMessage({data: Buffer.from('probe')});
  await within(20000, probed, 'probe message');
  await sleep(200);
  if (!m) m = cpuMark();   // replaced by the mark at the first measured message
  let pubStats;
  if (opt.procs >= 2) {
    const child = fork(__filename, ['e2e-pub', '--topic', t0.name, '--rate', String(opt.rate),
      '--batch', String(opt.batch), '--batch-ms', String(opt['batch-ms']),
      '--n', String(total), '--warmup', String(warm), '--size', String(opt.size),
      '--project', opt.project], {stdio: ['ignore', 'inherit', 'inherit', 'ipc']});
    const exited = new Promise((resolve) => child.on('exit', resolve));
    pubStats = await within(opt['deadline-s'] * 1000, new Promise((resolve) => {
      child.on('message', (x) => { if (x.error) die(`publisher: ${x.error}`); resolve(x.stats); });
      exited.then((c) => { if (c) die(`publisher exited ${c}`); });
    }), 'publisher');
    // Reaped before this process exits, so that the caller's CPU accounting
    // (cutime) holds the publisher's too.
    await within(20000, exited, 'publisher exit');
  } else {
    pubStats = await within(opt['deadline-s'] * 1000, openLoopPublish(ps, t0.name, total, warm, 'node'),
      'publisher');
  }
  await within(opt['deadline-s'] * 1000, received, `e2e got ${got} of ${total}`);
  const cpu = cpuSince(m, n);
  await within(20000, sub.close(), 'subscriber close');
  console.log(`grpc_e2e n=${n} ${subDesc()} batch=${opt.batch} batch_ms=${opt['batch-ms']} rate=${opt.rate} warmup=${warm} procs=${opt.procs} got=${got - warm} ` +
    `dups=${dups} bad=${bad} ${pubStats} ${pct('e2e', e2e.subarray(warm))} ` +
    `${pct('in', lin.subarray(warm))} ${pct('out', lout.subarray(warm))} ${cpu}`);
  return got === total && dups === 0 && bad === 0 && !/pub_errors=[1-9]/.test(pubStats);
}

async function doE2EPub(ps) {   // the child of e2e --procs 2
  process.on('disconnect', () => process.exit(1));   // the parent is gone
  const stats = await openLoopPublish(ps, opt.topic, opt.n, opt.warmup, 'pubnode');
  process.send({stats});
  return true;
}

// ---------------------------------------------------------------------- main
const modes = {pub: doPub, drain: doDrain, e2e: doE2E, 'e2e-pub': doE2EPub};
if (!modes[mode]) die('usage: grpc_bench.js pub|drain|e2e [--opt value]...');
const hard = setTimeout(() => die('hard deadline'), (opt['deadline-s'] + 60) * 1000);
hard.unref();
(async () => {
  const ps = new PubSub({projectId: opt.project});
  const ok = await modes[mode](ps);
  await within(10000, ps.close().catch(() => {}), 'close');
  process.exit(ok ? 0 : 1);
})().catch((e) => die(`${e.code || ''} ${e.stack || e.message}`));
