// The machine's ceiling: a bare node:http server answering a fixed JSON body.
import { createServer } from 'node:http';

const body = JSON.stringify({ success: true, labels: [], label_details: [] });
const server = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  response.end(body);
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.('ready'));
