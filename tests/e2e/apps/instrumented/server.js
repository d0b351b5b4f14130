// An uninstrumented Node.js HTTP service: answers every request on $PORT with "ok".
const http = require('http');

http.createServer((request, response) => {
  response.writeHead(200, { 'Content-Type': 'text/plain' });
  response.end('ok');
}).listen(Number(process.env.PORT), '127.0.0.1');
