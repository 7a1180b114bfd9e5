import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

/**
 * A small stand-in for an internal ERP: an OData-like business-partner list
 * and an admin page that must never be reachable from the cloud. Used by the
 * demo only.
 */
const PARTNERS = [
  { BusinessPartner: '1000001', BusinessPartnerFullName: 'Harbour Tools Ltd', Country: 'GB' },
  { BusinessPartner: '1000002', BusinessPartnerFullName: 'Nordlicht Maschinenbau GmbH', Country: 'DE' },
  { BusinessPartner: '1000003', BusinessPartnerFullName: 'Alto Valle Cooperativa', Country: 'AR' },
];

export async function startSampleErp(port = 0, host = '127.0.0.1'): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://erp.internal');
    if (url.pathname.startsWith('/sap/opu/odata/sap/API_BUSINESS_PARTNER/A_BusinessPartner')) {
      const body = JSON.stringify({ d: { results: PARTNERS, __servedBy: 'sample ERP inside the site', host: req.headers.host } }, null, 2);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      return res.end(body);
    }
    if (url.pathname.startsWith('/admin')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end('ERP administration: this must never be reachable from the cloud\n');
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });
  server.listen(port, host);
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
