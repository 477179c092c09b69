// Google's official Pub/Sub client (@google-cloud/pubsub, gRPC) against
// regnotifyd's gRPC endpoint with PUBSUB_EMULATOR_HOST (tests/integration/
// test_grpc.py). Prints one JSON line of what happened; every step is
// bounded by a timeout so nothing hangs.
//   node grpc_client.js PROJECT full|auth
'use strict';
const {PubSub, v1} = require('@google-cloud/pubsub');
const grpc = require('@grpc/grpc-js');

const [project, mode] = process.argv.slice(2);
const out = {};
const codeOf = async (p) => { try { await p; return 0; } catch (e) { return e.code; } };
const within = (ms, p) => Promise.race([p, new Promise((_, rej) =>
  setTimeout(() => rej(Object.assign(new Error('timeout'), {code: 'TIMEOUT'})), ms))]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function full() {
  const ps = new PubSub({projectId: project});
  const [topic] = await ps.createTopic('grpc-topic');
  out.topic = topic.name;
  out.duplicate = await codeOf(ps.createTopic('grpc-topic'));
  out.missing = await codeOf(ps.topic('no-such-topic').getMetadata());
  out.invalid = await codeOf(ps.createTopic('x'));
  const [meta] = await topic.getMetadata();
  out.meta_name = meta.name;
  const [topics] = await ps.getTopics();
  out.topics = topics.map((t) => t.name);
  const [sub] = await topic.createSubscription('grpc-sub', {ackDeadlineSeconds: 30});
  const [smeta] = await sub.getMetadata();
  out.sub_topic = smeta.topic;
  out.sub_deadline = smeta.ackDeadlineSeconds;
  // 1,000 messages through the library's batching.
  const ids = await Promise.all(Array.from({length: 1000}, (_, i) =>
    topic.publishMessage({data: Buffer.from('m' + i), attributes: {i: String(i)}})));
  out.published = new Set(ids).size;
  // Unary Pull + Acknowledge (the generated client).
  const sc = new v1.SubscriberClient({servicePath: process.env.HOST, port: process.env.PORT,
    sslCreds: grpc.credentials.createInsecure()});
  const got = new Set();
  for (let i = 0; i < 50 && got.size < 1000; i++) {
    const [r] = await sc.pull({subscription: sub.name, maxMessages: 500});
    const msgs = r.receivedMessages || [];
    msgs.forEach((m) => got.add(m.message.data.toString()));
    if (msgs.length) await sc.acknowledge({subscription: sub.name, ackIds: msgs.map((m) => m.ackId)});
  }
  out.received = got.size;
  // A name of the wrong shape: INVALID_ARGUMENT (not UNIMPLEMENTED).
  out.bad_name = await codeOf(sc.getSubscription({subscription: 'nope'}));
  out.attr_ok = got.has('m999');
  const [after] = await sc.pull({subscription: sub.name, maxMessages: 10, returnImmediately: true});
  out.after_ack = (after.receivedMessages || []).length;
  // A filter and DetachSubscription through the official client.
  const [fsub] = await topic.createSubscription('grpc-filtered', {filter: 'attributes.i = "7"'});
  const [fmeta] = await fsub.getMetadata();
  out.filter = fmeta.filter;
  out.bad_filter = await codeOf(topic.createSubscription('grpc-badf', {filter: 'attributes.i = 7'}));
  await topic.publishMessage({data: Buffer.from('f8'), attributes: {i: '8'}});
  await topic.publishMessage({data: Buffer.from('f7'), attributes: {i: '7'}});
  const fgot = [];
  for (let i = 0; i < 50 && fgot.length < 1; i++) {
    const [r] = await sc.pull({subscription: fsub.name, maxMessages: 10, returnImmediately: true});
    (r.receivedMessages || []).forEach((m) => fgot.push(m.message.data.toString()));
    if (!fgot.length) await sleep(100);
  }
  out.filtered = fgot;
  // Exactly-once delivery: a second ack of one ackId fails with the ErrorInfo google-gax
  // decodes from grpc-status-details-bin.
  const [esub] = await topic.createSubscription('grpc-eod', {enableExactlyOnceDelivery: true});
  out.eod = (await esub.getMetadata())[0].enableExactlyOnceDelivery;
  await topic.publishMessage({data: Buffer.from('once')});
  let eodMsgs = [];
  for (let i = 0; i < 50 && !eodMsgs.length; i++) {
    const [r] = await sc.pull({subscription: esub.name, maxMessages: 1, returnImmediately: true});
    eodMsgs = r.receivedMessages || [];
    if (!eodMsgs.length) await sleep(100);
  }
  const eodAck = eodMsgs.map((m) => m.ackId);
  out.eod_first = await codeOf(sc.acknowledge({subscription: esub.name, ackIds: eodAck}));
  try {
    await sc.acknowledge({subscription: esub.name, ackIds: eodAck});
    out.eod_second = 0;
  } catch (e) {
    out.eod_second = e.code;
    out.eod_reason = e.reason;
    out.eod_metadata = e.errorInfoMetadata;
  }
  // Snapshots: create, seek to it, list, delete (CreateSnapshot, Seek, ListSnapshots).
  const [snap] = await sub.createSnapshot('grpc-snap');
  out.snapshot = snap.name;
  await sub.seek('grpc-snap');
  const [snaps] = await ps.getSnapshots();
  out.snapshots = snaps.map((s) => s.name);
  await snap.delete();
  out.snapshot_deleted = await codeOf(sub.seek('grpc-snap'));
  await ps.detachSubscription(fsub.name);
  [out.detached] = await fsub.detached();
  out.pull_detached = await codeOf(sc.pull({subscription: fsub.name, maxMessages: 1,
    returnImmediately: true}));
  // An unknown method: UNIMPLEMENTED at once.
  const raw = new grpc.Client(process.env.HOST + ':' + process.env.PORT,
    grpc.credentials.createInsecure());
  out.unknown = await within(10000, new Promise((resolve) => {
    raw.makeUnaryRequest('/google.pubsub.v1.Publisher/NoSuchMethod', (x) => x, (x) => x,
      Buffer.alloc(0), (err) => resolve(err ? err.code : 0));
  })).catch((e) => e.code);
  raw.close();
  await sc.close();
  out.delete_sub = await codeOf(sub.delete());
  out.delete_topic = await codeOf(topic.delete());
  out.deleted_get = await codeOf(topic.getMetadata());
  await ps.close();
}

async function auth() {
  const ps = new PubSub({projectId: project});
  out.unauthenticated = await codeOf(within(20000, ps.createTopic('grpc-topic')));
  await ps.close();
}

// --grpc-tls-cert-key: the library over TLS with the test's CA (no
// PUBSUB_EMULATOR_HOST: servicePath/port/sslCreds as for a private endpoint).
async function tls() {
  const fs = require('fs');
  const ca = fs.readFileSync(process.env.CA_FILE);
  const opts = {projectId: project, servicePath: process.env.HOST, port: Number(process.env.PORT)};
  const ps = new PubSub(Object.assign({sslCreds: grpc.credentials.createSsl(ca)}, opts));
  const [topic] = await within(20000, ps.createTopic('tls-topic'));
  out.topic = topic.name;
  const [sub] = await topic.createSubscription('tls-sub');
  await topic.publishMessage({data: Buffer.from('over tls')});
  out.received = await within(20000, new Promise((resolve) => {
    sub.on('message', (m) => { m.ack(); resolve(m.data.toString()); });
  }));
  await sub.close();
  await ps.close();
  // Plaintext against the TLS port, and TLS with a CA that did not sign
  // the certificate: refused, UNAVAILABLE (14), not a hang (a raw client:
  // the library would retry UNAVAILABLE for a minute).
  const once = (creds) => new Promise((resolve) => {
    const c = new grpc.Client(process.env.HOST + ':' + process.env.PORT, creds);
    c.makeUnaryRequest('/google.pubsub.v1.Publisher/GetTopic', (x) => x, (x) => x,
      Buffer.from([0x0a, 0]), new grpc.Metadata(), {deadline: Date.now() + 10000},
      (err) => { c.close(); resolve(err ? err.code : 0); });
  });
  out.plaintext = await once(grpc.credentials.createInsecure());
  out.wrong_ca = await once(grpc.credentials.createSsl(fs.readFileSync(process.env.OTHER_CA)));
}

// --auth required over TLS: the token (TOKEN) as the library's call
// credentials, as an application with an access token sends it.
async function perm() {
  const fs = require('fs');
  const token = process.env.TOKEN;
  const creds = grpc.credentials.combineChannelCredentials(
    grpc.credentials.createSsl(fs.readFileSync(process.env.CA_FILE)),
    grpc.credentials.createFromMetadataGenerator((_, cb) => {
      const md = new grpc.Metadata();
      md.add('authorization', 'Bearer ' + token);
      cb(null, md);
    }));
  const ps = new PubSub({projectId: project, servicePath: process.env.HOST,
    port: Number(process.env.PORT), sslCreds: creds});
  out.get = await codeOf(within(20000, ps.topic('perm-topic').getMetadata()));
  out.create = await codeOf(within(20000, ps.createTopic('perm-new')));
  out.publish = await codeOf(within(20000,
    ps.topic('perm-topic', {batching: {maxMessages: 1}}).publishMessage({data: Buffer.from('x')})));
  await ps.close();
}

({auth, tls, perm, full}[mode] || full)()
  .then(() => { console.log(JSON.stringify(out)); process.exit(0); })
  .catch((e) => { out.error = String(e.code) + ' ' + e.message; console.log(JSON.stringify(out)); process.exit(1); });
