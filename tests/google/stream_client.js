// StreamingPull with Google's official Pub/Sub client (@google-cloud/pubsub,
// subscription.on('message')) against regnotifyd, PUBSUB_EMULATOR_HOST set
// (tests/integration/test_grpc_stream.py). One scenario per run; prints
// progress lines ("progress N") and, last, one JSON line of what happened.
// Every wait is bounded so nothing hangs.
//   node stream_client.js PROJECT SCENARIO [N]
'use strict';
const crypto = require('crypto');
const {PubSub} = require('@google-cloud/pubsub');
const grpc = require('@grpc/grpc-js');

const [project, scenario, arg] = process.argv.slice(2);
const out = {};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const within = (ms, p) => Promise.race([p, sleep(ms).then(() => 'timeout')]);
const codeOf = async (p) => { try { await p; return 0; } catch (e) { return e.code; } };

async function setup(ps, opts = {}) {
  const [topic] = await ps.createTopic(opts.topic || 'st-topic');
  const [sub] = await topic.createSubscription(opts.sub || 'st-sub',
    Object.assign({ackDeadlineSeconds: 10}, opts.subOptions || {}));
  return [topic, sub];
}

// Receives until want distinct messages arrived (or ms passed).
function receive(sub, want, ms, onMessage) {
  const seen = new Map();
  return within(ms, new Promise((resolve) => {
    sub.on('error', (e) => { out.error_event = e.code; resolve(); });
    sub.on('message', async (m) => {
      const k = m.data.toString();
      seen.set(k, (seen.get(k) || 0) + 1);
      if (onMessage) await onMessage(m, seen); else m.ack();
      let distinct = 0;
      for (const v of seen.values()) if (v) distinct++;
      if (distinct >= want) resolve();
    });
  })).then(() => seen);
}

const scenarios = {
  // 1,000 through the library's batching; each received and acked once.
  async basic(ps) {
    const [topic, sub] = await setup(ps);
    await Promise.all(Array.from({length: 1000}, (_, i) =>
      topic.publishMessage({data: Buffer.from('m' + i), attributes: {i: String(i)}})));
    let attrs = 0;
    const seen = await receive(sub, 1000, 60000, (m) => {
      if (m.attributes.i === m.data.toString().slice(1)) attrs++;
      m.ack();
    });
    out.received = seen.size;
    out.deliveries = [...seen.values()].reduce((a, b) => a + b, 0);
    out.attributes_ok = attrs;
    await sleep(500); // the library's ack batch goes out
    await sub.close();
    // Nothing comes back: every ack landed.
    const again = ps.subscription('st-sub');
    let extra = 0;
    again.on('message', (m) => { extra++; m.ack(); });
    await sleep(3000);
    await again.close();
    out.redelivered_after_ack = extra;
  },

  // A nack brings the message back at once (not after the 10 s deadline).
  async nack(ps) {
    const [topic, sub] = await setup(ps);
    let first = 0;
    const times = [];
    await topic.publishMessage({data: Buffer.from('n')});
    await within(20000, new Promise((resolve) => {
      sub.on('message', (m) => {
        times.push(Date.now());
        if (first++ === 0) m.nack(); else { m.ack(); resolve(); }
      });
    }));
    out.deliveries = times.length;
    out.redelivery_ms = times.length > 1 ? times[1] - times[0] : null;
    await sub.close();
  },

  // A handler that holds its messages past the ack deadline: the library
  // extends the leases, nothing is delivered twice meanwhile.
  async hold(ps) {
    const [topic, sub] = await setup(ps);
    await Promise.all(['h0', 'h1', 'h2'].map((d) => topic.publishMessage({data: Buffer.from(d)})));
    const seen = await receive(sub, 3, 30000, async (m) => {
      await sleep(Number(arg || 15000));
      m.ack();
    });
    await sleep(1000);
    out.received = seen.size;
    out.deliveries = [...seen.values()].reduce((a, b) => a + b, 0);
    await sub.close();
  },

  // flowControl.maxMessages 5: never more than 5 in the handler.
  async flow(ps) {
    const [topic, sub] = await setup(ps);
    const subf = ps.subscription('st-sub', {flowControl: {maxMessages: 5}});
    await Promise.all(Array.from({length: 200}, (_, i) =>
      topic.publishMessage({data: Buffer.from('f' + i)})));
    let now = 0;
    out.max_in_handler = 0;
    const seen = await receive(subf, 200, 60000, async (m) => {
      now++;
      out.max_in_handler = Math.max(out.max_in_handler, now);
      await sleep(5 + Math.random() * 20);
      now--;
      m.ack();
    });
    out.received = seen.size;
    await subf.close();
    void sub;
  },

  // Dead-lettering after 5 nacks; deliveryAttempt counts up.
  async deadletter(ps) {
    const [dlt] = await ps.createTopic('st-dead');
    const [dls] = await dlt.createSubscription('st-dead-sub');
    const [topic, sub] = await setup(ps, {subOptions: {
      deadLetterPolicy: {deadLetterTopic: dlt.name, maxDeliveryAttempts: 5}}});
    await topic.publishMessage({data: Buffer.from('poison')});
    out.attempts = [];
    sub.on('message', (m) => { out.attempts.push(m.deliveryAttempt); m.nack(); });
    const dead = await within(30000, new Promise((resolve) => {
      dls.on('message', (m) => { m.ack(); resolve(m.data.toString()); });
    }));
    out.dead_lettered = dead;
    await sub.close();
    await dls.close();
  },

  // 5 MB messages, intact.
  async big(ps) {
    const [topic, sub] = await setup(ps);
    const bodies = [0, 1].map((i) => crypto.randomBytes(5 * 1000 * 1000 + i));
    const sums = new Set(bodies.map((b) => crypto.createHash('sha256').update(b).digest('hex')));
    for (const b of bodies) await topic.publishMessage({data: b});
    let intact = 0;
    const seen = new Set();
    await within(60000, new Promise((resolve) => {
      sub.on('message', (m) => {
        const h = crypto.createHash('sha256').update(m.data).digest('hex');
        if (sums.has(h) && !seen.has(h)) { intact++; seen.add(h); }
        m.ack();
        if (intact === 2) resolve();
      });
    }));
    out.intact = intact;
    await sub.close();
  },

  // Ordered delivery: 3 keys x 40 through a publisher with messageOrdering;
  // on('message') sees each key's messages in publish order.
  async ordered(ps) {
    const [topic0, sub] = await setup(ps, {subOptions: {enableMessageOrdering: true}});
    const topic = ps.topic(topic0.name, {messageOrdering: true});
    const keys = ['a', 'b', 'c'];
    const pubs = [];
    for (let i = 0; i < 40; i++) {
      for (const k of keys) {
        pubs.push(topic.publishMessage({data: Buffer.from(k + '-' + i), orderingKey: k}));
      }
    }
    await Promise.all(pubs);
    const order = {a: [], b: [], c: []};
    const seen = await receive(sub, 120, 60000, (m) => {
      const [k, i] = m.data.toString().split('-');
      order[k].push(Number(i));
      m.ack();
    });
    out.received = seen.size;
    out.in_order = keys.every((k) => order[k].every((v, i) => i === 0 || v > order[k][i - 1]));
    out.firsts = keys.map((k) => order[k].slice(0, 3));
    out.enabled = (await sub.getMetadata())[0].enableMessageOrdering;
    await sub.close();
  },

  // Exactly-once delivery through the streaming subscriber: ackWithResponse
  // resolves for each message (the library learns the mode from the stream's
  // subscriptionProperties), none is delivered twice.
  async eod(ps) {
    const [topic, sub] = await setup(ps, {subOptions: {enableExactlyOnceDelivery: true}});
    await Promise.all(Array.from({length: 50}, (_, i) =>
      topic.publishMessage({data: Buffer.from('e' + i)})));
    const responses = {};
    const seen = await receive(sub, 50, 60000, async (m) => {
      const r = await m.ackWithResponse().catch((e) => 'error:' + e.errorCode);
      responses[r] = (responses[r] || 0) + 1;
    });
    await sleep(1000);
    out.received = seen.size;
    out.deliveries = [...seen.values()].reduce((a, b) => a + b, 0);
    out.responses = responses;
    out.exactly_once = sub.isExactlyOnceDelivery === undefined ? null : sub.isExactlyOnceDelivery;
    await sub.close();
  },

  // Seek back to a time: the acked messages (retained: retainAckedMessages) come again on the
  // stream.
  async seek(ps) {
    const [topic, sub] = await setup(ps, {subOptions: {retainAckedMessages: true}});
    const t0 = new Date(Math.floor(Date.now() / 1000) * 1000 - 1000);
    await Promise.all(Array.from({length: 10}, (_, i) =>
      topic.publishMessage({data: Buffer.from('s' + i)})));
    const seen = await receive(sub, 10, 20000, (m, s) => {
      m.ack();
      if ([...s.values()].every((v) => v >= 1) && s.size === 10 && !out.sought) {
        out.sought = true;
        setTimeout(() => sub.seek(t0).catch((e) => { out.seek_error = e.code; }), 1000);
      }
    });
    await sleep(5000);
    out.received = seen.size;
    out.replayed = [...seen.values()].filter((v) => v >= 2).length;
    await sub.close();
  },

  // A subscription that does not exist: an error event with NOT_FOUND.
  async missing(ps) {
    const sub = ps.subscription('no-such-sub');
    const t = Date.now();
    out.code = await within(20000, new Promise((resolve) => {
      sub.on('error', (e) => resolve(e.code));
      sub.on('message', () => {});
    }));
    out.ms = Date.now() - t;
    await sub.close().catch(() => {});
  },

  // Bad first requests on a raw stream: INVALID_ARGUMENT at once.
  async badrequest() {
    const c = new grpc.Client(process.env.PUBSUB_EMULATOR_HOST, grpc.credentials.createInsecure());
    const {google} = require('@google-cloud/pubsub/build/protos/protos');
    const Req = google.pubsub.v1.StreamingPullRequest;
    const one = (req) => new Promise((resolve) => {
      const call = c.makeBidiStreamRequest('/google.pubsub.v1.Subscriber/StreamingPull',
        (x) => Buffer.from(Req.encode(x).finish()), (b) => b);
      call.on('data', () => {});
      call.on('error', (e) => resolve(e.code));
      call.on('end', () => resolve(0));
      call.write(req);
    });
    const name = 'projects/' + project + '/subscriptions/st-sub';
    out.short_deadline = await within(10000, one({subscription: name, streamAckDeadlineSeconds: 5}));
    out.no_subscription = await within(10000, one({streamAckDeadlineSeconds: 10}));
    out.bad_name = await within(10000, one({subscription: 'nope', streamAckDeadlineSeconds: 10}));
    c.close();
  },

  // A raw stream (600 s stream deadline) that takes its first response and
  // is cancelled without confirming it: the broker releases those
  // messages at once (a unary pull gets them back long before 600 s), and
  // acks sent on a second stream land.
  async breaks(ps) {
    const [topic] = await setup(ps);
    await Promise.all(Array.from({length: 20}, (_, i) =>
      topic.publishMessage({data: Buffer.from('b' + i)})));
    const c = new grpc.Client(process.env.PUBSUB_EMULATOR_HOST, grpc.credentials.createInsecure());
    const {google} = require('@google-cloud/pubsub/build/protos/protos');
    const Req = google.pubsub.v1.StreamingPullRequest;
    const Resp = google.pubsub.v1.StreamingPullResponse;
    const name = 'projects/' + project + '/subscriptions/st-sub';
    const open = () => c.makeBidiStreamRequest('/google.pubsub.v1.Subscriber/StreamingPull',
      (x) => Buffer.from(Req.encode(x).finish()), (b) => Resp.decode(b));
    const first = (call) => within(10000, new Promise((resolve) => {
      call.on('data', (r) => resolve(r.receivedMessages));
      call.on('error', () => {});
    }));
    let call = open();
    call.write({subscription: name, streamAckDeadlineSeconds: 600});
    const got = await first(call);
    out.first_batch = got === 'timeout' ? 0 : got.length;
    call.cancel();
    await sleep(500);
    // Back at once: a second stream gets them all again, and acks them on
    // the stream itself.
    call = open();
    call.write({subscription: name, streamAckDeadlineSeconds: 600});
    const seen = new Set();
    await within(10000, new Promise((resolve) => {
      call.on('data', (r) => {
        r.receivedMessages.forEach((m) => seen.add(m.message.data.toString()));
        call.write({ackIds: r.receivedMessages.map((m) => m.ackId)});
        if (seen.size >= 20) resolve();
      });
      call.on('error', () => {});
    }));
    out.redelivered = seen.size;
    await sleep(500);
    call.cancel();
    const [r] = await new (require('@google-cloud/pubsub').v1.SubscriberClient)({
      servicePath: process.env.PUBSUB_EMULATOR_HOST.split(':')[0],
      port: Number(process.env.PUBSUB_EMULATOR_HOST.split(':')[1]),
      sslCreds: grpc.credentials.createInsecure()}).pull({subscription: name, maxMessages: 100,
      returnImmediately: true});
    out.left_after_stream_acks = (r.receivedMessages || []).length;
    c.close();
  },

  // Exactly-once delivery with acks on the stream itself (other client
  // libraries' way): each ack gets an acknowledgeConfirmation - the first
  // one confirmed, the same ackId again refused (invalidAckIds).
  async eodstream(ps) {
    const [topic] = await setup(ps, {subOptions: {enableExactlyOnceDelivery: true}});
    await topic.publishMessage({data: Buffer.from('c1')});
    const c = new grpc.Client(process.env.PUBSUB_EMULATOR_HOST, grpc.credentials.createInsecure());
    const {google} = require('@google-cloud/pubsub/build/protos/protos');
    const Req = google.pubsub.v1.StreamingPullRequest;
    const Resp = google.pubsub.v1.StreamingPullResponse;
    const call = c.makeBidiStreamRequest('/google.pubsub.v1.Subscriber/StreamingPull',
      (x) => Buffer.from(Req.encode(x).finish()), (b) => Resp.decode(b));
    const responses = [];
    let wake = () => {};
    call.on('data', (r) => { responses.push(r); wake(); });
    call.on('error', () => {});
    const until = (pred) => within(10000, new Promise((resolve) => {
      const check = () => { const r = responses.find(pred); if (r) resolve(r); };
      wake = check;
      check();
    }));
    call.write({subscription: 'projects/' + project + '/subscriptions/st-sub',
      streamAckDeadlineSeconds: 60});
    const first = await until((r) => r.receivedMessages && r.receivedMessages.length);
    const id = first.receivedMessages[0].ackId;
    out.properties = first.subscriptionProperties;
    call.write({ackIds: [id]});
    const ok = await until((r) => r.acknowledgeConfirmation);
    out.confirmed = ok.acknowledgeConfirmation.ackIds;
    responses.length = 0;
    call.write({ackIds: [id]});
    const bad = await until((r) => r.acknowledgeConfirmation);
    out.invalid = bad.acknowledgeConfirmation.invalidAckIds;
    out.id = id;
    call.cancel();
    c.close();
  },

  // --auth required and no credential: UNAUTHENTICATED ends the stream.
  async unauth(ps) {
    const sub = ps.subscription('st-sub');
    out.code = await within(20000, new Promise((resolve) => {
      sub.on('error', (e) => resolve(e.code));
      sub.on('message', () => {});
    }));
    await sub.close().catch(() => {});
  },

  // An existing subscription (arg): receive and ack until 3 s pass without
  // a message (60 s at most); print what came (several brokers, one
  // subscription: the test runs one of these per broker at once).
  async recv(ps) {
    const sub = ps.subscription(arg, {flowControl: {maxMessages: 50}});
    const got = [];
    let last = Date.now();
    sub.on('message', (m) => { got.push(m.data.toString()); last = Date.now(); m.ack(); });
    sub.on('error', (e) => { out.error_event = e.code; });
    const t0 = Date.now();
    while (Date.now() - t0 < 60000 && (got.length === 0 || Date.now() - last < 3000))
      await sleep(100);
    await sleep(300);
    await sub.close();
    out.got = got;
  },

  // For the broker-kill tests: N messages published first, then received
  // slowly (so the broker dies mid-stream); "progress K" lines tell the
  // test how far it got.
  async slow(ps) {
    const n = Number(arg || 200);
    const [topic, sub] = await setup(ps);
    await Promise.all(Array.from({length: n}, (_, i) =>
      topic.publishMessage({data: Buffer.from('k' + i)})));
    console.log('published ' + n);
    const subf = ps.subscription('st-sub', {flowControl: {maxMessages: 10}});
    const seen = await receive(subf, n, 90000, async (m, s) => {
      await sleep(20);
      m.ack();
      console.log('progress ' + s.size);
    });
    out.received = seen.size;
    out.deliveries = [...seen.values()].reduce((a, b) => a + b, 0);
    await subf.close().catch(() => {});
    void sub;
  },
};

(async () => {
  const ps = new PubSub({projectId: project});
  await scenarios[scenario](ps);
  await ps.close().catch(() => {});
})()
  .then(() => { console.log(JSON.stringify(out)); process.exit(0); })
  .catch((e) => { out.error = String(e.code) + ' ' + e.message; console.log(JSON.stringify(out)); process.exit(1); });
