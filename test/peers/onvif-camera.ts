import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A minimal ONVIF device on loopback, enough for the real node-onvif-ts: a SOAP responder for
 * GetSystemDateAndTime, GetCapabilities, GetDeviceInformation, GetProfiles, GetStreamUri (RTSP
 * only; other protocols get a SOAP fault, as many cameras do) and GetSnapshotUri, plus a JPEG
 * route. With `username`, requests must carry a valid WS-Security UsernameToken digest.
 */
export interface OnvifCameraOptions {
  readonly jpeg: Buffer;
  readonly username?: string;
  readonly password?: string;
  /** Where GetSnapshotUri points; default this server's /snapshot.jpg. */
  readonly snapshotUrl?: string;
  readonly streamUrl?: string;
  /** Never answer SOAP (a device that hangs). */
  readonly hang?: boolean;
}

const NS = [
  'xmlns:s="http://www.w3.org/2003/05/soap-envelope"',
  'xmlns:tds="http://www.onvif.org/ver10/device/wsdl"',
  'xmlns:trt="http://www.onvif.org/ver10/media/wsdl"',
  'xmlns:tt="http://www.onvif.org/ver10/schema"',
].join(' ');

const envelope = (body: string): string => `<?xml version="1.0" encoding="UTF-8"?><s:Envelope ${NS}><s:Body>${body}</s:Body></s:Envelope>`;

const fault = (reason: string): string =>
  envelope(`<s:Fault><s:Code><s:Value>s:Sender</s:Value></s:Code><s:Reason><s:Text xml:lang="en">${reason}</s:Text></s:Reason></s:Fault>`);

export class OnvifCamera {
  /** SOAP methods called, in order. */
  readonly calls: string[] = [];
  snapshots = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly options: OnvifCameraOptions) {}

  get base(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  get xaddr(): string {
    return `${this.base}/onvif/device_service`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET' && (req.url ?? '').split('?')[0] === '/snapshot.jpg') {
      this.snapshots += 1;
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.end(this.options.jpeg);
      return;
    }
    let body = '';
    for await (const chunk of req) body += String(chunk);
    if (this.options.hang) return; // never answers
    const method = /<(?:\w+:)?(Get\w+)[\s/>]/.exec(body.slice(body.indexOf('Body')))?.[1] ?? 'unknown';
    this.calls.push(method);
    const send = (status: number, xml: string): void => {
      res.writeHead(status, { 'content-type': 'application/soap+xml; charset=utf-8' });
      res.end(xml);
    };
    if (method !== 'GetSystemDateAndTime' && this.options.username && !this.authorized(body)) {
      send(400, fault('Sender not Authorized'));
      return;
    }
    const reply = this.reply(method, body);
    if (reply === undefined) send(400, fault(`${method} not supported`));
    else send(200, envelope(reply));
  }

  private authorized(body: string): boolean {
    const user = /<Username>([^<]*)<\/Username>/.exec(body)?.[1];
    const digest = /<Password[^>]*>([^<]*)<\/Password>/.exec(body)?.[1];
    const nonce = /<Nonce[^>]*>([^<]*)<\/Nonce>/.exec(body)?.[1];
    const created = /<Created[^>]*>([^<]*)<\/Created>/.exec(body)?.[1];
    if (user !== this.options.username || !digest || !nonce || !created) return false;
    const expected = createHash('sha1')
      .update(Buffer.concat([Buffer.from(nonce, 'base64'), Buffer.from(created), Buffer.from(this.options.password ?? '')]))
      .digest('base64');
    return expected === digest;
  }

  private reply(method: string, body: string): string | undefined {
    const now = new Date();
    switch (method) {
      case 'GetSystemDateAndTime':
        return `<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings><tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone><tt:UTCDateTime><tt:Time><tt:Hour>${now.getUTCHours()}</tt:Hour><tt:Minute>${now.getUTCMinutes()}</tt:Minute><tt:Second>${now.getUTCSeconds()}</tt:Second></tt:Time><tt:Date><tt:Year>${now.getUTCFullYear()}</tt:Year><tt:Month>${now.getUTCMonth() + 1}</tt:Month><tt:Day>${now.getUTCDate()}</tt:Day></tt:Date></tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`;
      case 'GetCapabilities':
        return `<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Device><tt:XAddr>${this.xaddr}</tt:XAddr></tt:Device><tt:Media><tt:XAddr>${this.base}/onvif/media_service</tt:XAddr></tt:Media></tds:Capabilities></tds:GetCapabilitiesResponse>`;
      case 'GetDeviceInformation':
        return '<tds:GetDeviceInformationResponse><tds:Manufacturer>Lookout Test</tds:Manufacturer><tds:Model>SOAP-1</tds:Model><tds:FirmwareVersion>1.0</tds:FirmwareVersion><tds:SerialNumber>0001</tds:SerialNumber><tds:HardwareId>hw1</tds:HardwareId></tds:GetDeviceInformationResponse>';
      case 'GetProfiles':
        return `<trt:GetProfilesResponse>${['main', 'sub']
          .map(
            (token, i) =>
              `<trt:Profiles token="${token}" fixed="true"><tt:Name>${i === 0 ? 'MainStream' : 'SubStream'}</tt:Name><tt:VideoSourceConfiguration token="vs"><tt:Name>vs</tt:Name><tt:SourceToken>vs</tt:SourceToken><tt:Bounds x="0" y="0" width="320" height="240"/></tt:VideoSourceConfiguration></trt:Profiles>`,
          )
          .join('')}</trt:GetProfilesResponse>`;
      case 'GetStreamUri': {
        if (!/<tt:Protocol>RTSP<\/tt:Protocol>/.test(body)) return undefined;
        const token = /<trt:ProfileToken>([^<]*)</.exec(body)?.[1] ?? '';
        const uri = this.options.streamUrl ?? `rtsp://127.0.0.1:554/${token}`;
        return `<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>${escapeXml(uri)}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>`;
      }
      case 'GetSnapshotUri': {
        const token = /<trt:ProfileToken>([^<]*)</.exec(body)?.[1] ?? '';
        const uri = this.options.snapshotUrl ?? `${this.base}/snapshot.jpg?profile=${token}`;
        return `<trt:GetSnapshotUriResponse><trt:MediaUri><tt:Uri>${escapeXml(uri)}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetSnapshotUriResponse>`;
      }
      default:
        return undefined;
    }
  }
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
