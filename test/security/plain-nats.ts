/** What a NATS client that does not speak TLS gets from a server: its INFO line and whatever follows a clear-text CONNECT + PING. */
import { connect as netConnect } from 'node:net';

export function plainConnectAndPing(port: number, timeoutMs = 5_000): Promise<string> {
  return new Promise<string>((resolve) => {
    let text = '';
    let sent = false;
    const socket = netConnect({ host: '127.0.0.1', port });
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(text);
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('data', (d) => {
      text += d.toString();
      if (!sent && text.includes('\r\n')) {
        sent = true;
        socket.write('CONNECT {"verbose":false,"pedantic":false,"tls_required":false}\r\nPING\r\n');
      }
      if (sent && /PONG|-ERR/.test(text)) done();
    });
    socket.on('close', done);
    socket.on('error', done);
  });
}
