import type { Socket } from 'node:net';

/** Sends a raw upgrade request whose head carries `headerBytes` of one extra header; resolves with all the server wrote. */
export function sendRawHead(socket: Socket, headerBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.write(
      'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
        `X-Padding: ${'a'.repeat(headerBytes)}\r\n\r\n`,
    );
  });
}
