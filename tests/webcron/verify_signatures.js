// verify_signatures.js: checks webhook deliveries with npm's
// standardwebhooks package, an implementation independent of arun's.
// Reads JSON lines {"secret", "headers": {...}, "body"} on stdin; prints
// one line per delivery: "ok" or "FAIL: reason". Exit 1 when any failed.
'use strict';
const { Webhook } = require('standardwebhooks');

let input = '';
process.stdin.on('data', d => { input += d; });
process.stdin.on('end', () => {
  let bad = 0;
  for (const line of input.split('\n')) {
    if (!line.trim()) continue;
    const { secret, headers, body } = JSON.parse(line);
    try {
      // verify() also checks that webhook-timestamp is within 5 minutes
      const payload = new Webhook(secret).verify(body, headers);
      if (JSON.stringify(payload) !== JSON.stringify(JSON.parse(body)))
        throw new Error('payload differs');
      console.log('ok');
    } catch (e) {
      bad++;
      console.log('FAIL: ' + e.message);
    }
  }
  process.exit(bad ? 1 : 0);
});
