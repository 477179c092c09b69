// Google's own REST client (googleapis + google-auth-library, pinned in
// package-lock.json) against regnotifyd with a key file regnotify made:
// the code a Google Cloud user already has, with rootUrl pointed at the
// broker and GOOGLE_CLOUD_UNIVERSE_DOMAIN=regnotify (the key file's
// universe_domain; docs/security.md). Run by
// tests/integration/test_google_client.py:
//   node pubsub_client.js KEYFILE ROOT_URL PROJECT roundtrip|list
// prints one JSON line; exit 0 when the calls succeeded, 3 with
// {"error":CODE,"message":...} when the broker refused one.
'use strict';
const {google} = require('googleapis');

async function main() {
  const [keyFile, rootUrl, project, mode] = process.argv.slice(2);
  const auth = new google.auth.GoogleAuth({
    keyFile,
    scopes: ['https://www.googleapis.com/auth/pubsub'],
  });
  const pubsub = google.pubsub({version: 'v1', auth, rootUrl});
  if (mode === 'list') {
    const r = await pubsub.projects.topics.list({project: `projects/${project}`});
    console.log(JSON.stringify({topics: (r.data.topics || []).map(t => t.name)}));
    return;
  }
  const topic = `projects/${project}/topics/g-topic`;
  const sub = `projects/${project}/subscriptions/g-sub`;
  await pubsub.projects.topics.create({name: topic, requestBody: {}});
  await pubsub.projects.subscriptions.create({name: sub, requestBody: {topic}});
  const data = ['one', 'two', 'three'];
  const pub = await pubsub.projects.topics.publish({
    topic,
    requestBody: {messages: data.map(d => ({data: Buffer.from(d).toString('base64')}))},
  });
  const got = [];
  for (let i = 0; i < 20 && got.length < data.length; i++) {
    const r = await pubsub.projects.subscriptions.pull({
      subscription: sub,
      requestBody: {maxMessages: 10, returnImmediately: true},
    });
    const msgs = r.data.receivedMessages || [];
    if (msgs.length) {
      await pubsub.projects.subscriptions.acknowledge({
        subscription: sub,
        requestBody: {ackIds: msgs.map(m => m.ackId)},
      });
    }
    for (const m of msgs) got.push(Buffer.from(m.message.data, 'base64').toString());
  }
  console.log(JSON.stringify({published: pub.data.messageIds.length, received: got.sort()}));
}

main().catch(e => {
  console.log(JSON.stringify({error: e.code || null, message: String(e.message)}));
  process.exit(3);
});
