import { createSocket, type Socket } from 'node:dgram';

/**
 * Answers WS-Discovery Probes (UDP multicast 239.255.255.250:3702) with one ProbeMatch that
 * names `xaddr`, as an ONVIF camera does. The answer goes unicast back to the prober.
 */
export class WsDiscoveryResponder {
  private socket: Socket | undefined;
  probes = 0;

  constructor(
    private readonly xaddr: string,
    private readonly name = 'Line_3_Camera',
  ) {}

  async start(): Promise<void> {
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    this.socket = socket;
    socket.on('message', (msg, rinfo) => {
      const text = msg.toString('utf8');
      if (!text.includes('Probe')) return;
      this.probes += 1;
      const relates = /<(?:\w+:)?MessageID>([^<]*)</.exec(text)?.[1] ?? '';
      socket.send(Buffer.from(this.match(relates)), rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(3702, () => {
        socket.addMembership('239.255.255.250');
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.socket ? this.socket.close(() => resolve()) : resolve()));
    this.socket = undefined;
  }

  private match(relatesTo: string): string {
    return (
      '<?xml version="1.0" encoding="UTF-8"?>' +
      '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">' +
      `<s:Header><a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</a:Action><a:RelatesTo>${relatesTo}</a:RelatesTo></s:Header>` +
      '<s:Body><d:ProbeMatches><d:ProbeMatch>' +
      '<a:EndpointReference><a:Address>urn:uuid:5f5a69c2-e0ae-504f-829b-00000000abcd</a:Address></a:EndpointReference>' +
      '<d:Types>dn:NetworkVideoTransmitter</d:Types>' +
      `<d:Scopes>onvif://www.onvif.org/name/${this.name} onvif://www.onvif.org/hardware/SOAP-1 onvif://www.onvif.org/location/line3</d:Scopes>` +
      `<d:XAddrs>${this.xaddr}</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion>` +
      '</d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>'
    );
  }
}
