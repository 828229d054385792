import { z } from 'zod';
import { durationMs, identifier, positiveInt, secret } from './common.js';

/** An OPC UA node id in its string form (Part 6 §5.3.1.10): `ns=2;s=Line1.Outcome`, `ns=3;i=1001`, `nsu=urn:…;s=…`. */
const nodeId = z.string().regex(/^(?:(?:ns=\d{1,5}|nsu=[^;]{1,200});)?[isgb]=.{1,400}$/, 'an OPC UA node id such as ns=2;s=Line1.Outcome');

const triggerSchema = z.strictObject({
  /** The camera this trigger inspects (it must take triggers). */
  camera: identifier,
  /** The node the light barrier or PLC program sets. */
  nodeId,
  /** `rising-edge`: a Boolean going false → true; `counter`: any change of a number (a part counter). */
  kind: z.enum(['rising-edge', 'counter']).default('rising-edge'),
  /** A String node read with the trigger for the part id (read in the same notification's wake, before inspecting). */
  partIdNodeId: nodeId.optional(),
  /** How often the server samples the trigger node; 0 asks for the fastest it offers. */
  samplingIntervalMs: durationMs.max(10_000).default(0),
});

/**
 * OPC UA client of the line's PLC (`plc.opcua`): writes each verdict to configured nodes and takes
 * inspection triggers from monitored nodes. Absent: nothing OPC UA is loaded.
 */
export const plcOpcuaSchema = z
  .strictObject({
    /** `opc.tcp://host:port[/path]` of the PLC's OPC UA server. */
    endpointUrl: z.string().regex(/^opc\.tcp:\/\/[^\s/]+(?::\d{1,5})?(?:\/\S*)?$/, 'an opc.tcp:// URL'),
    /** SignAndEncrypt by default; None only where the network between us and the PLC is trusted. */
    securityMode: z.enum(['None', 'SignAndEncrypt']).default('SignAndEncrypt'),
    /** Used with SignAndEncrypt. Basic128Rsa15 and Basic256 are deprecated (OPC UA 1.04) and not offered. */
    securityPolicy: z.enum(['Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss']).default('Basic256Sha256'),
    /**
     * Our application instance certificate (PEM or DER, RSA) and its private key (PEM), needed in every mode
     * (a session sends it even with None); the application URI is read from its subjectAltName.
     */
    certificateFile: z.string().min(1),
    privateKeyFile: z.string().min(1),
    /** The server certificate(s) we trust (PEM or DER): a file, or a directory of them. Pinned by thumbprint. */
    trustedServerCertificates: z.string().min(1).optional(),
    /** A user name and password for the session (anonymous when absent). The password is never logged. */
    user: z.strictObject({ name: z.string().min(1).max(256), password: secret }).optional(),
    /** Where each verdict is written; a node left out is not written. Values follow each node's data type. */
    verdict: z
      .strictObject({
        outcome: nodeId.optional(),
        score: nodeId.optional(),
        partId: nodeId.optional(),
        timestamp: nodeId.optional(),
        camera: nodeId.optional(),
        /** Only these cameras' verdicts are written (all when absent). */
        cameras: z.array(identifier).max(64).optional(),
      })
      .prefault({}),
    triggers: z.array(triggerSchema).max(64).default([]),
    /**
     * How often the server sends trigger changes (the subscription's publishing interval): a trigger waits
     * up to this long on the server. Servers have a floor (node-opcua 50 ms; many PLCs 10-100 ms).
     */
    publishingIntervalMs: durationMs.min(10).max(10_000).default(50),
    /** Verdicts waiting to be written while the PLC is slow or away; past it the oldest is dropped and counted. */
    queueSize: positiveInt.max(100_000).default(1_000),
    /** Deadline of one write (one Write service call: all nodes of one verdict). */
    writeTimeoutMs: durationMs.min(50).default(2_000),
    /** Reconnection and write retry backoff (capped exponential with jitter). */
    backoff: z.strictObject({ initialMs: durationMs.min(10).default(500), maxMs: durationMs.min(10).default(10_000) }).prefault({}),
    /** Session timeout asked of the server: it keeps our subscriptions this long while we are away. */
    sessionTimeoutMs: durationMs.min(1_000).default(60_000),
  })
  .superRefine((value, ctx) => {
    if (value.securityMode !== 'SignAndEncrypt') return;
    if (!value.trustedServerCertificates) ctx.addIssue({ code: 'custom', path: ['trustedServerCertificates'], message: 'required with securityMode SignAndEncrypt' });
  });
export type PlcOpcuaConfig = z.infer<typeof plcOpcuaSchema>;
