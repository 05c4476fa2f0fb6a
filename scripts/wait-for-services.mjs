#!/usr/bin/env node
// Waits (up to 60 s) until the PostgreSQL and Redis named by TEST_DATABASE_URL / TEST_REDIS_URL answer.
import net from 'node:net';

const targets = [process.env.TEST_DATABASE_URL, process.env.TEST_REDIS_URL].filter(Boolean).map((url) => new URL(url));

function answers({ hostname, port }) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve(false);
    });
  });
}

const deadline = Date.now() + 60_000;
for (const target of targets) {
  while (!(await answers(target))) {
    if (Date.now() > deadline) {
      console.error(`${target.protocol}//${target.host} does not answer`);
      process.exit(1);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  console.log(`${target.protocol}//${target.host} answers`);
}
