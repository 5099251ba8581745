/**
 * Closing under load without cutting a request. Node's `server.close()` ends at once every keep-alive connection
 * between two requests, racing a client that is writing its next request on it; HTTP/1.1 gives the server no way to
 * win that race. So the listener is closed first on its own, each request still arriving on an open connection is
 * answered with `Connection: close` (by the caller), and a connection is ended by the server only once it has carried
 * no request for a while (its client has gone or gone quiet).
 */
import type { Server } from 'node:http';
import net, { type Socket } from 'node:net';

/** How long a connection may sit without a request, during a close, before the server ends it. */
const IDLE_MS = 1000;
/** Connections still open after this are ended whatever they are doing. */
const MAX_CLOSE_MS = 10_000;
const CHECK_MS = 50;

interface Use {
  busy: number;
  idleSince: number;
}

export interface Connections {
  /** Stops accepting connections and resolves once the open ones have ended (see above). */
  close(): Promise<void>;
}

export function trackConnections(server: Server): Connections {
  const uses = new Map<Socket, Use>();
  server.on('connection', (socket: Socket) => {
    uses.set(socket, { busy: 0, idleSince: Date.now() });
    socket.once('close', () => uses.delete(socket));
  });
  server.on('request', (req, res) => {
    const use = uses.get(req.socket);
    if (!use) return;
    use.busy++;
    res.once('close', () => {
      use.busy--;
      use.idleSince = Date.now();
    });
  });
  return {
    async close() {
      if (!server.listening) return;
      net.Server.prototype.close.call(server); // the listener only: open connections stay
      const started = Date.now();
      while (uses.size) {
        const now = Date.now();
        for (const [socket, use] of uses)
          if ((use.busy === 0 && now - use.idleSince >= IDLE_MS) || now - started > MAX_CLOSE_MS) socket.destroy();
        await new Promise((r) => setTimeout(r, CHECK_MS));
      }
    },
  };
}
